using System.Text.Json;
using Kyros.Perf.Resources;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// Reads host samples from untrusted JSON field by field: an unknown field (a typo) or a missing figure of a disk,
/// interface or GPU is an error naming it, never a silent 0. The node comes from the path when the body leaves it out.
/// Range rules are <see cref="ResourceValidator"/>'s.
/// </summary>
public static class ResourceSampleJsonReader
{
    private static readonly HashSet<string> SampleFields =
    [
        "node", "timestamp", "cpu_percent", "memory_percent", "memory_used_bytes", "memory_total_bytes", "disks", "networks",
        "tcp_connections", "queue_size", "gpus", "group",
    ];
    private static readonly HashSet<string> DiskFields = ["mount", "used_bytes", "total_bytes"];
    private static readonly HashSet<string> NetworkFields = ["interface", "receive_bytes_per_second", "transmit_bytes_per_second", "link_bytes_per_second"];
    private static readonly HashSet<string> GpuFields =
        ["index", "name", "utilization_percent", "memory_used_bytes", "memory_total_bytes", "temperature_celsius", "power_watts"];

    /// <summary>One sample (an object) or several (an array, fields prefixed with "[i].").</summary>
    public static IReadOnlyList<ResourceSample> ReadBody(JsonElement root, string node) => root.ValueKind switch
    {
        JsonValueKind.Object => [Read(root, "", node)],
        JsonValueKind.Array => [.. root.EnumerateArray().Select((element, i) => element.ValueKind == JsonValueKind.Object
            ? Read(element, $"[{i}].", node)
            : throw JsonFields.WrongType("", $"[{i}]", "a sample object"))],
        _ => throw new ArgumentException("The body must be a resource sample or an array of them.", "body"),
    };

    private static ResourceSample Read(JsonElement json, string prefix, string node)
    {
        JsonFields.RejectUnknown(json, prefix, SampleFields, "a resource sample");
        return new ResourceSample
        {
            Node = JsonFields.String(json, prefix, "node") ?? node,
            Timestamp = JsonFields.Timestamp(json, prefix) ?? throw JsonFields.Missing(prefix, "timestamp"),
            CpuPercent = JsonFields.Number(json, prefix, "cpu_percent"),
            MemoryPercent = JsonFields.Number(json, prefix, "memory_percent"),
            MemoryUsedBytes = JsonFields.Integer(json, prefix, "memory_used_bytes"),
            MemoryTotalBytes = JsonFields.Integer(json, prefix, "memory_total_bytes"),
            Disks = List(json, prefix, "disks", DiskFields, "a disk", (d, p) => new DiskSample(
                Required(JsonFields.String(d, p, "mount"), p, "mount"),
                Required(JsonFields.Integer(d, p, "used_bytes"), p, "used_bytes"),
                Required(JsonFields.Integer(d, p, "total_bytes"), p, "total_bytes"))),
            Networks = List(json, prefix, "networks", NetworkFields, "a network interface", (n, p) => new NetworkSample(
                Required(JsonFields.String(n, p, "interface"), p, "interface"),
                Required(JsonFields.Number(n, p, "receive_bytes_per_second"), p, "receive_bytes_per_second"),
                Required(JsonFields.Number(n, p, "transmit_bytes_per_second"), p, "transmit_bytes_per_second"),
                JsonFields.Number(n, p, "link_bytes_per_second"))),
            TcpConnections = Int32(JsonFields.Integer(json, prefix, "tcp_connections"), prefix, "tcp_connections"),
            QueueSize = Int32(JsonFields.Integer(json, prefix, "queue_size"), prefix, "queue_size"),
            Gpus = List(json, prefix, "gpus", GpuFields, "a GPU", (g, p) => new GpuSample(
                Int32(Required(JsonFields.Integer(g, p, "index"), p, "index"), p, "index")!.Value,
                Required(JsonFields.String(g, p, "name"), p, "name"),
                JsonFields.Number(g, p, "utilization_percent"),
                Required(JsonFields.Integer(g, p, "memory_used_bytes"), p, "memory_used_bytes"),
                Required(JsonFields.Integer(g, p, "memory_total_bytes"), p, "memory_total_bytes"),
                JsonFields.Number(g, p, "temperature_celsius"),
                JsonFields.Number(g, p, "power_watts"))),
            Group = JsonFields.String(json, prefix, "group"),
        };
    }

    private static IReadOnlyList<T> List<T>(JsonElement json, string prefix, string name, IReadOnlySet<string> fields, string what, Func<JsonElement, string, T> read) =>
        JsonFields.Field(json, name) switch
        {
            null => [],
            { ValueKind: JsonValueKind.Array } array => [.. array.EnumerateArray().Select((item, i) =>
            {
                var at = $"{prefix}{name}[{i}]";
                if (item.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", at, $"{what} object");
                JsonFields.RejectUnknown(item, at + ".", fields, what);
                return read(item, at + ".");
            })],
            _ => throw JsonFields.WrongType(prefix, name, $"an array of {what} objects"),
        };

    private static T Required<T>(T? value, string prefix, string name) where T : class => value ?? throw JsonFields.Missing(prefix, name);

    private static T Required<T>(T? value, string prefix, string name) where T : struct => value ?? throw JsonFields.Missing(prefix, name);

    private static int? Int32(long? value, string prefix, string name) => value switch
    {
        null => null,
        >= int.MinValue and <= int.MaxValue => (int)value.Value,
        _ => throw new ArgumentException($"{prefix}{name} is out of range.", prefix + name),
    };
}
