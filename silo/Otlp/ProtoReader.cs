namespace Kyros.Perf.Silo.Otlp;

/// <summary>
/// Reads protocol buffers' wire format (varints, fixed 32 and 64 bits, length-delimited fields) from a span, without
/// copying: OTLP's messages are read by their field numbers, which the specification fixes. A body that breaks the
/// format (a truncated field, a varint over 10 bytes, a group) throws <see cref="FormatException"/>.
/// </summary>
public ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly bool End => _position >= _data.Length;

    /// <summary>The next field's number and wire type; false at the end.</summary>
    public bool Next(out int field, out int wireType)
    {
        if (End)
        {
            field = wireType = 0;
            return false;
        }
        var tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field == 0 || tag >> 3 > int.MaxValue) throw new FormatException("a field number of 0 or out of range");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _data.Length) throw new FormatException("a varint runs past the end");
            var b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new FormatException("a varint longer than 10 bytes");
    }

    public ulong ReadFixed64()
    {
        if (_position + 8 > _data.Length) throw new FormatException("a fixed64 runs past the end");
        var value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - _position)) throw new FormatException("a length-delimited field runs past the end");
        var bytes = _data.Slice(_position, (int)length);
        _position += (int)length;
        return bytes;
    }

    public string ReadString()
    {
        var bytes = ReadBytes();
        try
        {
            return Utf8.GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new FormatException("a string that is not UTF-8");
        }
    }

    /// <summary>Skips a field this reader does not need.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint: ReadVarint(); break;
            case Fixed64: Advance(8); break;
            case LengthDelimited: ReadBytes(); break;
            case Fixed32: Advance(4); break;
            default: throw new FormatException($"wire type {wireType} (groups are not part of OTLP)");
        }
    }

    /// <summary>Throws unless the field has the wire type its number calls for.</summary>
    public static void Expect(int wireType, int expected, string field)
    {
        if (wireType != expected) throw new FormatException($"{field} has wire type {wireType}, not {expected}");
    }

    private void Advance(int count)
    {
        if (_position + count > _data.Length) throw new FormatException("a fixed field runs past the end");
        _position += count;
    }

    private static readonly System.Text.UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
