using System.Globalization;

namespace Kyros.Perf.Cli;

/// <summary>The command line as a verb, <c>--name value</c> options and <c>--flag</c>s; unknown options are errors.</summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = [];

    public string? Verb { get; }

    /// <summary>Words after the verb that are not options (a prompt, say).</summary>
    public IReadOnlyList<string> Arguments => _arguments;
    private readonly List<string> _arguments = [];
    private bool _argumentsRead;

    public CommandLine(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (Verb is null) Verb = arg;
                else _arguments.Add(arg);
                continue;
            }
            var name = arg[2..];
            string? value = null;
            var eq = name.IndexOf('=');
            if (eq >= 0) (name, value) = (name[..eq], name[(eq + 1)..]);
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) value = args[++i];
            _options[name] = value;
        }
    }

    public string? Text(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var value) ? value ?? throw new ArgumentException($"--{name} needs a value.") : null;
    }

    /// <summary>The words after the verb, joined; null when there are none.</summary>
    public string? Rest()
    {
        _argumentsRead = true;
        return _arguments.Count == 0 ? null : string.Join(' ', _arguments);
    }

    public string RequiredText(string name) => Text(name) ?? throw new ArgumentException($"--{name} is required.");

    public double? Number(string name) => Text(name) is { } text
        ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"--{name} '{text}' is not a number.")
        : null;

    public long? Integer(string name) => Text(name) is { } text
        ? long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"--{name} '{text}' is not a whole number.")
        : null;

    public bool Flag(string name)
    {
        _read.Add(name);
        return _options.ContainsKey(name);
    }

    /// <summary>Call after reading every option a command knows.</summary>
    public void RejectUnknown()
    {
        if (!_argumentsRead && _arguments.Count > 0) throw new ArgumentException($"Unexpected argument '{_arguments[0]}'.");
        var unknown = _options.Keys.Where(k => !_read.Contains(k)).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}.");
    }
}
