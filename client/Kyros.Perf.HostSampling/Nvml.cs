using System.Runtime.InteropServices;
using System.Text;
using Kyros.Perf.Resources;

namespace Kyros.Perf.HostSampling;

/// <summary>NVIDIA's management library through P/Invoke: utilization, memory, temperature and power per GPU.</summary>
internal static class Nvml
{
    private const string Library = "libnvidia-ml.so.1";
    private const int Success = 0;

    public static bool TryInitialize(out string error)
    {
        try
        {
            var result = nvmlInit_v2();
            error = result == Success ? "" : $"nvmlInit_v2 returned {result}";
            return result == Success;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            error = $"{Library} not loadable";
            return false;
        }
    }

    public static IReadOnlyList<GpuSample> Read()
    {
        if (nvmlDeviceGetCount_v2(out var count) != Success) return [];
        var gpus = new List<GpuSample>((int)count);
        var name = new byte[96];
        for (uint i = 0; i < count; i++)
        {
            if (nvmlDeviceGetHandleByIndex_v2(i, out var device) != Success) continue;
            var label = nvmlDeviceGetName(device, name, (uint)name.Length) == Success ? Encoding.UTF8.GetString(name, 0, Array.IndexOf(name, (byte)0) is >= 0 and var end ? end : name.Length) : $"gpu{i}";
            double? utilization = nvmlDeviceGetUtilizationRates(device, out var rates) == Success ? rates.Gpu : null;
            var memoryKnown = nvmlDeviceGetMemoryInfo(device, out var memory) == Success;
            double? temperature = nvmlDeviceGetTemperature(device, 0, out var celsius) == Success ? celsius : null;
            double? power = nvmlDeviceGetPowerUsage(device, out var milliwatts) == Success ? milliwatts / 1000.0 : null;
            gpus.Add(new GpuSample((int)i, label, utilization,
                memoryKnown ? (long)Math.Min(memory.Used, memory.Total) : 0, memoryKnown ? (long)memory.Total : 0, temperature, power));
        }
        return gpus;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Utilization
    {
        public uint Gpu;
        public uint Memory;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Memory
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }

#pragma warning disable SYSLIB1054 // Plain DllImport: blittable signatures, no generated marshalling needed.
    [DllImport(Library)] private static extern int nvmlInit_v2();
    [DllImport(Library)] private static extern int nvmlDeviceGetCount_v2(out uint count);
    [DllImport(Library)] private static extern int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);
    [DllImport(Library)] private static extern int nvmlDeviceGetName(IntPtr device, [Out] byte[] name, uint length);
    [DllImport(Library)] private static extern int nvmlDeviceGetUtilizationRates(IntPtr device, out Utilization utilization);
    [DllImport(Library)] private static extern int nvmlDeviceGetMemoryInfo(IntPtr device, out Memory memory);
    [DllImport(Library)] private static extern int nvmlDeviceGetTemperature(IntPtr device, int sensor, out uint celsius);
    [DllImport(Library)] private static extern int nvmlDeviceGetPowerUsage(IntPtr device, out uint milliwatts);
#pragma warning restore SYSLIB1054
}
