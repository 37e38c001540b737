using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Kyros.Perf.Gateway;

namespace Kyros.Perf.Stats;

/// <summary>
/// A record of one model's log in a few dozen bytes: the model is the log's; instances and error kinds are numbers in the
/// log's own tables; timestamps are offsets from when it was appended; a request id's 32 hex digits (the gateway's, a
/// GUID's) are 16 bytes. Every field comes back exactly as it went in.
/// </summary>
/// <param name="numberNames">
/// Whether instances and error kinds are numbered in this codec's tables (a log kept in one process), or written in full
/// (entries read by other processes, as in Redis).
/// </param>
public sealed class CompactRecordCodec(string model, bool numberNames = true)
{
    /// <summary>Names a log numbers at most; one beyond is written in full.</summary>
    private const int MaxNames = 1024;
    private const byte Success = 1, Feedback = 2, HasInstance = 4, HasTtft = 8, HasErrorKind = 16, HasQuality = 32, HasToolCalls = 64, CacheHit = 128;
    private const byte RawId = 0, HexTailId = 1, GuidId = 2, GatewayId = 3;
    private string? _gatewayPrefix;
    private readonly NameTable _instances = new(numberNames ? MaxNames : 0);
    private readonly NameTable _errorKinds = new(numberNames ? MaxNames : 0);

    /// <summary>
    /// Appends a request id: the gateway's own (its model token, start and 32 hex digits) as its start relative to
    /// <paramref name="appendedAtMs"/> and 16 bytes; a GUID as 16 bytes; one ending in 32 lowercase hex digits as the rest
    /// and 16 bytes; any other as it is.
    /// </summary>
    public void WriteRequestId(ArrayBufferWriter<byte> buffer, string requestId, long appendedAtMs)
    {
        if (TryParseGatewayId(requestId, out var atMs))
        {
            Write(buffer, GatewayId);
            WriteVarint(buffer, ZigZag(atMs - appendedAtMs));
            WriteHex32(buffer, requestId.AsSpan(requestId.Length - 32));
        }
        else if (requestId.Length == 36 && Guid.TryParseExact(requestId, "D", out var guid) && guid.ToString("D") == requestId)
        {
            Write(buffer, GuidId);
            guid.TryWriteBytes(buffer.GetSpan(16), bigEndian: true, out _);
            buffer.Advance(16);
        }
        else if (requestId.Length >= 32 && IsLowerHex(requestId.AsSpan(requestId.Length - 32)))
        {
            Write(buffer, HexTailId);
            WriteString(buffer, requestId[..^32]);
            WriteHex32(buffer, requestId.AsSpan(requestId.Length - 32));
        }
        else
        {
            Write(buffer, RawId);
            WriteString(buffer, requestId);
        }
    }

    public string ReadRequestId(ref SpanReader reader, long appendedAtMs)
    {
        switch (reader.ReadByte())
        {
            case GatewayId:
                var atMs = appendedAtMs + UnZigZag(reader.ReadVarint());
                return GatewayPrefix + atMs.ToString("x", CultureInfo.InvariantCulture) + "." + Convert.ToHexStringLower(reader.ReadBytes(16));
            case GuidId:
                return new Guid(reader.ReadBytes(16), bigEndian: true).ToString("D");
            case HexTailId:
                var prefix = reader.ReadString();
                return prefix + Convert.ToHexStringLower(reader.ReadBytes(16));
            default:
                return reader.ReadString();
        }
    }

    /// <summary>A request id's hash for a dedupe index: over its text, so it does not depend on how it was stored.</summary>
    public static long Hash(string requestId, long seed) =>
        (long)XxHash64.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(requestId.AsSpan()), seed);

    /// <summary>Everything of the record but the model and the request id (written before it), relative to when it was appended.</summary>
    public void WriteBody(ArrayBufferWriter<byte> buffer, ModelPerformanceRecord record, long appendedAtMs)
    {
        var flags = (byte)((record.Success ? Success : 0) | (record.IsFeedback ? Feedback : 0) | (record.Instance is null ? 0 : HasInstance)
            | (record.TimeToFirstToken is null ? 0 : HasTtft) | (record.ErrorKind is null ? 0 : HasErrorKind) | (record.QualityScore is null ? 0 : HasQuality) | (record.ToolCalls == 0 ? 0 : HasToolCalls)
            | (record.CacheHit ? CacheHit : 0));
        Write(buffer, flags);
        if (record.Instance is not null) _instances.Write(buffer, record.Instance);
        WriteVarint(buffer, ZigZag(record.Timestamp.UtcTicks - appendedAtMs * TimeSpan.TicksPerMillisecond));
        WriteDouble(buffer, record.ExecutionTime);
        if (record.TimeToFirstToken is { } ttft) WriteDouble(buffer, ttft);
        WriteVarint(buffer, (ulong)record.InputTokens);
        WriteVarint(buffer, (ulong)record.OutputTokens);
        if (record.ErrorKind is not null) _errorKinds.Write(buffer, record.ErrorKind);
        WriteDouble(buffer, record.Cost);
        if (record.QualityScore is { } quality) WriteDouble(buffer, quality);
        if (record.ToolCalls != 0) WriteVarint(buffer, (ulong)record.ToolCalls);
        if (record.CacheHit) WriteDouble(buffer, record.CostSaved);
    }

    public ModelPerformanceRecord ReadBody(ref SpanReader reader, string model, string requestId, long appendedAtMs)
    {
        var flags = reader.ReadByte();
        var instance = (flags & HasInstance) != 0 ? _instances.Read(ref reader) : null;
        var ticks = UnZigZag(reader.ReadVarint()) + appendedAtMs * TimeSpan.TicksPerMillisecond;
        var executionTime = reader.ReadDouble();
        double? ttft = (flags & HasTtft) != 0 ? reader.ReadDouble() : null;
        var input = (long)reader.ReadVarint();
        var output = (long)reader.ReadVarint();
        var errorKind = (flags & HasErrorKind) != 0 ? _errorKinds.Read(ref reader) : null;
        var cost = reader.ReadDouble();
        double? quality = (flags & HasQuality) != 0 ? reader.ReadDouble() : null;
        // Entries written before tool calls were counted have no such flag, and read as none.
        var toolCalls = (flags & HasToolCalls) != 0 ? (int)reader.ReadVarint() : 0;
        // Likewise entries written before the response cache: no flag, no hit.
        var cacheHit = (flags & CacheHit) != 0;
        var costSaved = cacheHit ? reader.ReadDouble() : 0;
        return new ModelPerformanceRecord(model, instance, new DateTimeOffset(ticks, TimeSpan.Zero), executionTime, ttft, input, output,
            (flags & Success) != 0, errorKind, cost, quality, requestId, IsFeedback: (flags & Feedback) != 0)
            { ToolCalls = toolCalls, CacheHit = cacheHit, CostSaved = costSaved };
    }

    public static void WriteVarint(ArrayBufferWriter<byte> buffer, ulong value) => buffer.Advance(WriteVarint(buffer.GetSpan(10), value));

    /// <summary>Writes a 7-bit varint (as <see cref="BinaryWriter.Write7BitEncodedInt64"/> does) and returns its length.</summary>
    public static int WriteVarint(Span<byte> span, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        return i;
    }

    // "gen.{model token}.": what the gateway's ids for this log's model begin with (RequestIds.Format).
    private string GatewayPrefix => _gatewayPrefix ??= $"gen.{RequestIds.ModelToken(model)}.";

    /// <summary>
    /// Whether the id is one the gateway made for this model, read in place (this runs for every record appended): its
    /// start must be written as the gateway writes it (lowercase hex, no leading zero), so the id comes back exactly.
    /// </summary>
    private bool TryParseGatewayId(string requestId, out long atMs)
    {
        atMs = 0;
        if (!requestId.StartsWith("gen.", StringComparison.Ordinal)) return false;
        var prefix = GatewayPrefix;
        var msLength = requestId.Length - prefix.Length - 33;
        if (msLength is < 1 or > 15 || !requestId.StartsWith(prefix, StringComparison.Ordinal) || requestId[^33] != '.') return false;
        var ms = requestId.AsSpan(prefix.Length, msLength);
        return IsLowerHex(ms) && (ms[0] != '0' || ms.Length == 1) && IsLowerHex(requestId.AsSpan(requestId.Length - 32))
            && long.TryParse(ms, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out atMs);
    }

    private static bool IsLowerHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
            if (c is not (>= '0' and <= '9' or >= 'a' and <= 'f')) return false;
        return true;
    }

    private static void WriteHex32(ArrayBufferWriter<byte> buffer, ReadOnlySpan<char> hex)
    {
        Convert.FromHexString(hex, buffer.GetSpan(16), out _, out _);
        buffer.Advance(16);
    }

    private static void Write(ArrayBufferWriter<byte> buffer, byte value)
    {
        buffer.GetSpan(1)[0] = value;
        buffer.Advance(1);
    }

    private static void WriteDouble(ArrayBufferWriter<byte> buffer, double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(buffer.GetSpan(8), value);
        buffer.Advance(8);
    }

    private static void WriteString(ArrayBufferWriter<byte> buffer, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        WriteVarint(buffer, (ulong)length);
        Encoding.UTF8.GetBytes(text, buffer.GetSpan(length));
        buffer.Advance(length);
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    /// <summary>Names numbered in the order first seen; number 0 means the name follows in full (the table is full).</summary>
    private sealed class NameTable(int capacity)
    {
        private readonly List<string> _names = [];
        private readonly Dictionary<string, int> _numbers = new(StringComparer.Ordinal);

        public void Write(ArrayBufferWriter<byte> buffer, string name)
        {
            if (!_numbers.TryGetValue(name, out var number) && _names.Count < capacity)
            {
                _names.Add(name);
                _numbers[name] = number = _names.Count;
            }
            WriteVarint(buffer, (ulong)number);
            if (number == 0) WriteString(buffer, name);
        }

        public string Read(ref SpanReader reader)
        {
            var number = (int)reader.ReadVarint();
            return number == 0 ? reader.ReadString() : _names[number - 1];
        }
    }
}

/// <summary>Reads what <see cref="CompactRecordCodec"/> wrote.</summary>
public ref struct SpanReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; set; }

    public byte ReadByte() => _data[Position++];

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        var bytes = _data.Slice(Position, count);
        Position += count;
        return bytes;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = _data[Position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
    }

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(ReadBytes(8));

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes((int)ReadVarint()));
}
