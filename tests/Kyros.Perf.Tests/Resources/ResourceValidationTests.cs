using Kyros.Perf.Resources;

namespace Kyros.Perf.Tests.Resources;

public sealed class ResourceValidationTests
{
    private static readonly DateTimeOffset Now = Series.Start;
    private static readonly ResourceSample Good = new()
    {
        Node = "gpu-box-1",
        Timestamp = Now,
        CpuPercent = 50,
        MemoryPercent = 40,
        MemoryUsedBytes = 4,
        MemoryTotalBytes = 10,
        Disks = [new DiskSample("/", 1, 2)],
        Networks = [new NetworkSample("eth0", 10, 20, 1000)],
        Gpus = [new GpuSample(0, "NVIDIA H200", 50, 1, 2, 60, 300)],
    };

    public static TheoryData<string, ResourceSample> BadSamples => new()
    {
        { "node", Good with { Node = "" } },
        { "node", Good with { Node = "bad host/name" } },
        { "timestamp", Good with { Timestamp = Now.AddMinutes(5) } },
        { "timestamp", Good with { Timestamp = Now.AddHours(-2) } },
        { "cpu_percent", Good with { CpuPercent = 100.5 } },
        { "cpu_percent", Good with { CpuPercent = -1 } },
        { "cpu_percent", Good with { CpuPercent = double.NaN } },
        { "memory_percent", Good with { MemoryPercent = double.PositiveInfinity } },
        { "memory_used_bytes", Good with { MemoryUsedBytes = -1 } },
        { "memory_used_bytes", Good with { MemoryUsedBytes = 11 } },
        { "tcp_connections", Good with { TcpConnections = -3 } },
        { "disks[0].used_bytes", Good with { Disks = [new DiskSample("/", -1, 2)] } },
        { "disks[0].mount", Good with { Disks = [new DiskSample(" ", 1, 2)] } },
        { "networks[0].receive_bytes_per_second", Good with { Networks = [new NetworkSample("eth0", double.NaN, 0, null)] } },
        { "networks[0].link_bytes_per_second", Good with { Networks = [new NetworkSample("eth0", 1, 1, -5)] } },
        { "gpus[0].utilization_percent", Good with { Gpus = [new GpuSample(0, "g", 101, 1, 2, null, null)] } },
        { "gpus[0].memory_used_bytes", Good with { Gpus = [new GpuSample(0, "g", 1, 3, 2, null, null)] } },
        { "gpus[0].temperature_celsius", Good with { Gpus = [new GpuSample(0, "g", 1, 1, 2, 400, null)] } },
        { "gpus[1].index", Good with { Gpus = [new GpuSample(0, "g", 1, 1, 2, null, null), new GpuSample(0, "g", 1, 1, 2, null, null)] } },
    };

    [Theory]
    [MemberData(nameof(BadSamples))]
    public void A_bad_sample_is_refused_naming_its_field(string field, ResourceSample sample)
    {
        var error = Assert.Throws<ArgumentException>(() => ResourceValidator.ValidateBatch(sample.Node, [sample], Now, TimeSpan.FromHours(1)));
        Assert.Equal(field, error.ParamName);
    }

    [Fact]
    public void A_good_sample_passes_and_batches_name_the_sample_at_fault()
    {
        ResourceValidator.ValidateBatch(Good.Node, [Good], Now, TimeSpan.FromHours(1));
        var error = Assert.Throws<ArgumentException>(() =>
            ResourceValidator.ValidateBatch(Good.Node, [Good, Good with { CpuPercent = 200 }], Now, TimeSpan.FromHours(1)));
        Assert.Equal("[1].cpu_percent", error.ParamName);
        var other = Assert.Throws<ArgumentException>(() => ResourceValidator.ValidateBatch("another-host", [Good], Now, TimeSpan.FromHours(1)));
        Assert.Equal("node", other.ParamName);
    }

    [Theory]
    [InlineData("cpu", 70, 60, 95, null, "critical")]
    [InlineData("cpu", 70, 85, 85, null, "emergency")]
    [InlineData("cpu", 70, 85, 101, null, "emergency")]
    [InlineData("cpu", -1, 85, 95, null, "warning")]
    [InlineData("cpu", 70, 85, 95, 75.0, "info")]
    [InlineData("gpu_temperature", 80, 90, 151, null, "emergency")]
    [InlineData("cpuu", 70, 85, 95, null, "metric")]
    public void Thresholds_must_rise_and_stay_in_range(string metric, double warning, double critical, double emergency, double? info, string field)
    {
        var error = Assert.Throws<ArgumentException>(() => ResourceValidator.ValidateThresholds(metric, new AlertThresholds(warning, critical, emergency, info)));
        Assert.Equal(field, error.ParamName);
    }
}
