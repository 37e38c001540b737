using Kyros.Perf.HostSampling;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.Resources;

public sealed class HostSamplerTests
{
    /// <summary>Two GPUs as <c>nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw --format=csv,noheader,nounits</c> prints them; the second cannot report power.</summary>
    private const string NvidiaSmiOutput = """
        0, NVIDIA H200, 87, 120503, 143771, 64, 512.37
        1, NVIDIA H200, 0, 0, 143771, 31, [N/A]

        """;

    [Fact]
    public void Nvidia_smi_output_parses_into_gpus_with_unknown_fields_left_null()
    {
        var gpus = NvidiaSmi.Parse(NvidiaSmiOutput);
        Assert.Equal(2, gpus.Count);
        Assert.Equal(new GpuSample(0, "NVIDIA H200", 87, 120503L * 1024 * 1024, 143771L * 1024 * 1024, 64, 512.37), gpus[0]);
        Assert.Null(gpus[1].PowerWatts);
        Assert.Equal(0, gpus[1].UtilizationPercent);
        Assert.Equal(83.8, gpus[0].MemoryPercent, 1);
        Assert.Throws<FormatException>(() => NvidiaSmi.Parse("0, NVIDIA H200, 87"));
    }

    [Fact]
    public async Task Without_nvml_or_nvidia_smi_a_host_reports_no_gpu_rather_than_zeros()
    {
        var reader = new GpuReader("/nonexistent/nvidia-smi", NullLogger<GpuReader>.Instance);
        if (reader.SourceName == "Nvml") Assert.Skip("This host has NVML, so it has GPUs to report.");
        Assert.Empty(await reader.ReadAsync());
        Assert.Equal("None", reader.SourceName);
    }

    [Fact]
    public async Task Cpu_and_memory_are_measured_against_the_cgroup_limit_when_the_container_has_one()
    {
        var root = Directory.CreateTempSubdirectory("kyros-proc-").FullName;
        var proc = Directory.CreateDirectory(Path.Combine(root, "proc")).FullName;
        var cgroup = Directory.CreateDirectory(Path.Combine(root, "cgroup")).FullName;
        Directory.CreateDirectory(Path.Combine(proc, "net"));
        File.WriteAllText(Path.Combine(proc, "meminfo"), "MemTotal:       16000000 kB\nMemAvailable:    8000000 kB\n");
        File.WriteAllText(Path.Combine(proc, "net", "dev"), "h1\nh2\n  eth0: 1000 0 0 0 0 0 0 0 5000 0 0 0 0 0 0 0\n    lo: 9 0 0 0 0 0 0 0 9 0 0 0 0 0 0 0\n");
        File.WriteAllText(Path.Combine(proc, "net", "snmp"), "Ip: Forwarding\nIp: 1\nTcp: RtoAlgorithm MaxConn ActiveOpens CurrEstab InSegs\nTcp: 1 -1 4559 7 32808205\n");
        File.WriteAllText(Path.Combine(proc, "mounts"), $"proc /proc proc rw 0 0\n/dev/vdz {root.Replace(" ", "\\040")} ext4 rw 0 0\n/dev/vdz {root}/bind ext4 rw 0 0\n");
        // Half a core (v2 quota 50 ms per 100 ms period) and a 1 GiB memory limit with 100 MiB of reclaimable cache.
        File.WriteAllText(Path.Combine(cgroup, "cpu.max"), "50000 100000\n");
        File.WriteAllText(Path.Combine(cgroup, "cpu.stat"), "usage_usec 1000000\nuser_usec 1\n");
        File.WriteAllText(Path.Combine(cgroup, "memory.max"), $"{1L << 30}\n");
        File.WriteAllText(Path.Combine(cgroup, "memory.current"), $"{612L << 20}\n");
        File.WriteAllText(Path.Combine(cgroup, "memory.stat"), $"anon 1\ninactive_file {100L << 20}\n");

        var time = new FakeTimeProvider(Series.Start);
        var gpus = new GpuReader("", NullLogger<GpuReader>.Instance);
        var sampler = new HostResourceSampler(gpus, time, new InFlightRequests(), proc, cgroup);
        var first = await sampler.SampleAsync("h1", "default");
        Assert.Null(first.CpuPercent);

        // 0.3 s of CPU in 1 s against half a core: 60%.
        time.Advance(TimeSpan.FromSeconds(1));
        File.WriteAllText(Path.Combine(cgroup, "cpu.stat"), "usage_usec 1300000\n");
        File.WriteAllText(Path.Combine(proc, "net", "dev"), "h1\nh2\n  eth0: 3000 0 0 0 0 0 0 0 5500 0 0 0 0 0 0 0\n");
        var second = await sampler.SampleAsync("h1", "default");

        Assert.Equal(60, second.CpuPercent!.Value, 6);
        Assert.Equal(512L << 20, second.MemoryUsedBytes);
        Assert.Equal(1L << 30, second.MemoryTotalBytes);
        Assert.Equal(50, second.MemoryPercent!.Value, 6);
        Assert.Equal(7, second.TcpConnections);
        Assert.Equal(root, Assert.Single(second.Disks).Mount);
        Assert.Equal(0, second.QueueSize);
        var eth0 = Assert.Single(second.Networks);
        Assert.Equal(("eth0", 2000.0, 500.0), (eth0.Interface, eth0.ReceiveBytesPerSecond, eth0.TransmitBytesPerSecond));
        Assert.Empty(second.Gpus);
        Directory.Delete(root, recursive: true);
    }
}
