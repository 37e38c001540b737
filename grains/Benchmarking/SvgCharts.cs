using System.Globalization;
using System.Text;

namespace Kyros.Perf.Benchmarking;

/// <summary>
/// Small self-contained SVG charts for reports: a fixed size, no scripts or external styles (so a Markdown viewer that
/// inlines HTML shows them as they are), text XML-escaped, every number in the invariant culture. No blank lines inside,
/// so that Markdown keeps a chart as one HTML block.
/// </summary>
public static class SvgCharts
{
    public const int Width = 640;
    public const int Height = 320;

    // Plot area: room on the left for tick labels, on the right for the legend.
    private const double Left = 64, Right = 500, Top = 34, Bottom = 272;
    private const int MaxCdfSteps = 400;

    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>Lines through points (each series sorted by X), with markers: throughput or latency against concurrency, a metric over runs.</summary>
    public static string Lines(string title, string xLabel, string yLabel, IReadOnlyList<(string Name, IReadOnlyList<(double X, double Y)> Points)> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var clean = series.Select(s => (s.Name, Points: s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).OrderBy(p => p.X).ToList())).ToList();
        var all = clean.SelectMany(s => s.Points).ToList();
        var svg = Begin(title);
        if (all.Count == 0) return NoData(svg);

        // Levels and run indices are whole numbers: no ticks between them.
        var x = Axis(all.Min(p => p.X), all.Max(p => p.X), fromZero: false, whole: all.All(p => p.X == Math.Floor(p.X)));
        var y = Axis(all.Min(p => p.Y), all.Max(p => p.Y), fromZero: true);
        Frame(svg, x, y, xLabel, yLabel);
        for (var i = 0; i < clean.Count; i++)
        {
            var color = Palette[i % Palette.Length];
            var points = clean[i].Points;
            if (points.Count > 1)
                svg.Append(Inv($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\""))
                    .AppendJoin(' ', points.Select(p => Inv($"{X(x, p.X):0.#},{Y(y, p.Y):0.#}"))).Append("\"/>\n");
            foreach (var p in points) svg.Append(Inv($"<circle cx=\"{X(x, p.X):0.#}\" cy=\"{Y(y, p.Y):0.#}\" r=\"3\" fill=\"{color}\"/>\n"));
        }
        Legend(svg, clean.Select(s => s.Name).ToList());
        return End(svg);
    }

    /// <summary>
    /// Empirical distribution functions: for each series the share of values at or below x, as steps (thinned to a few
    /// hundred evenly spaced ranks for large series, which the chart's pixels could not show apart anyway).
    /// </summary>
    public static string Cdf(string title, string xLabel, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var clean = series.Select(s =>
        {
            var sorted = s.Values.Where(double.IsFinite).ToArray();
            Array.Sort(sorted);
            return (s.Name, Sorted: sorted);
        }).ToList();
        var svg = Begin(title);
        if (clean.All(s => s.Sorted.Length == 0)) return NoData(svg);

        var x = Axis(clean.Where(s => s.Sorted.Length > 0).Min(s => s.Sorted[0]), clean.Where(s => s.Sorted.Length > 0).Max(s => s.Sorted[^1]), fromZero: true);
        var y = new AxisScale(0, 1, 0.25);
        Frame(svg, x, y, xLabel, "share of requests");
        for (var i = 0; i < clean.Count; i++)
        {
            var sorted = clean[i].Sorted;
            if (sorted.Length == 0) continue;
            var n = sorted.Length;
            var steps = Math.Min(n, MaxCdfSteps);
            // Start on the axis at 0 and rise at each (kept) value: the step of rank r reaches (r + 1) / n.
            var points = new List<string> { Inv($"{X(x, sorted[0]):0.#},{Y(y, 0):0.#}") };
            var previous = 0.0;
            for (var k = 1; k <= steps; k++)
            {
                var rank = (int)Math.Ceiling((double)k * n / steps) - 1;
                var share = (rank + 1.0) / n;
                points.Add(Inv($"{X(x, sorted[rank]):0.#},{Y(y, previous):0.#}"));
                points.Add(Inv($"{X(x, sorted[rank]):0.#},{Y(y, share):0.#}"));
                previous = share;
            }
            svg.Append(Inv($"<polyline fill=\"none\" stroke=\"{Palette[i % Palette.Length]}\" stroke-width=\"2\" points=\""))
                .AppendJoin(' ', points).Append("\"/>\n");
        }
        Legend(svg, clean.Select(s => s.Name).ToList());
        return End(svg);
    }

    /// <summary>An axis from <see cref="Min"/> to <see cref="Max"/> with ticks every <see cref="Step"/>.</summary>
    private readonly record struct AxisScale(double Min, double Max, double Step);

    /// <summary>Bounds on round numbers with about five ticks; a single value gets room around it.</summary>
    private static AxisScale Axis(double min, double max, bool fromZero, bool whole = false)
    {
        if (fromZero && min >= 0) min = 0;
        if (max <= min)
        {
            var pad = min == 0 ? 1 : Math.Abs(min) * 0.5;
            (min, max) = (fromZero && min >= 0 ? Math.Max(0, min - pad) : min - pad, max + pad);
        }
        var step = NiceStep((max - min) / 5);
        if (whole && step % 1 != 0) step = step < 1 ? 1 : Math.Ceiling(step / 5) * 5;
        return new AxisScale(Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step);
    }

    /// <summary>1, 2, 2.5 or 5 times a power of ten, at least the rough step.</summary>
    private static double NiceStep(double rough)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var fraction = rough / power;
        return power * (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10);
    }

    private static double X(AxisScale axis, double value) => Left + (value - axis.Min) / (axis.Max - axis.Min) * (Right - Left);

    private static double Y(AxisScale axis, double value) => Bottom - (value - axis.Min) / (axis.Max - axis.Min) * (Bottom - Top);

    private static StringBuilder Begin(string title)
    {
        var svg = new StringBuilder();
        svg.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" "))
            .Append("font-family=\"sans-serif\" font-size=\"11\">\n")
            .Append("<title>").Append(Escape(title)).Append("</title>\n")
            .Append(Inv($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>\n"))
            .Append(Inv($"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">")).Append(Escape(title)).Append("</text>\n");
        return svg;
    }

    private static string NoData(StringBuilder svg) =>
        End(svg.Append(Inv($"<text x=\"{Width / 2}\" y=\"{Height / 2}\" text-anchor=\"middle\" fill=\"#666666\">no data</text>\n")));

    private static string End(StringBuilder svg) => svg.Append("</svg>").ToString();

    private static void Frame(StringBuilder svg, AxisScale x, AxisScale y, string xLabel, string yLabel)
    {
        foreach (var tick in Ticks(y))
        {
            var py = Y(y, tick);
            svg.Append(Inv($"<line x1=\"{Left}\" y1=\"{py:0.#}\" x2=\"{Right}\" y2=\"{py:0.#}\" stroke=\"#e5e5e5\"/>\n"))
                .Append(Inv($"<text x=\"{Left - 6}\" y=\"{py + 4:0.#}\" text-anchor=\"end\">{Label(tick, y.Step)}</text>\n"));
        }
        foreach (var tick in Ticks(x))
        {
            var px = X(x, tick);
            svg.Append(Inv($"<line x1=\"{px:0.#}\" y1=\"{Bottom}\" x2=\"{px:0.#}\" y2=\"{Bottom + 5}\" stroke=\"#333333\"/>\n"))
                .Append(Inv($"<text x=\"{px:0.#}\" y=\"{Bottom + 18}\" text-anchor=\"middle\">{Label(tick, x.Step)}</text>\n"));
        }
        svg.Append(Inv($"<line x1=\"{Left}\" y1=\"{Bottom}\" x2=\"{Right}\" y2=\"{Bottom}\" stroke=\"#333333\"/>\n"))
            .Append(Inv($"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Bottom}\" stroke=\"#333333\"/>\n"))
            .Append(Inv($"<text x=\"{(Left + Right) / 2}\" y=\"{Bottom + 38}\" text-anchor=\"middle\">")).Append(Escape(xLabel)).Append("</text>\n")
            .Append(Inv($"<text x=\"16\" y=\"{(Top + Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(Top + Bottom) / 2})\">"))
            .Append(Escape(yLabel)).Append("</text>\n");
    }

    private static IEnumerable<double> Ticks(AxisScale axis)
    {
        var count = (int)Math.Round((axis.Max - axis.Min) / axis.Step);
        for (var i = 0; i <= count; i++) yield return axis.Min + i * axis.Step;
    }

    /// <summary>A tick value with as many decimals as its step needs.</summary>
    private static string Label(double value, double step)
    {
        var decimals = Math.Clamp((int)Math.Ceiling(-Math.Log10(step) - 1e-9), 0, 6);
        if (step * Math.Pow(10, decimals) % 1 > 1e-9) decimals++; // 2.5 steps need one more
        return Math.Round(value, decimals).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    private static void Legend(StringBuilder svg, IReadOnlyList<string> names)
    {
        for (var i = 0; i < names.Count; i++)
        {
            var top = Top + i * 18;
            if (top > Bottom) break;
            svg.Append(Inv($"<rect x=\"{Right + 14}\" y=\"{top}\" width=\"12\" height=\"12\" fill=\"{Palette[i % Palette.Length]}\"/>\n"))
                .Append(Inv($"<text x=\"{Right + 32}\" y=\"{top + 10}\">")).Append(Escape(Shorten(names[i]))).Append("</text>\n");
        }
    }

    private static string Shorten(string name) => name.Length <= 20 ? name : name[..19] + "…";

    /// <summary>Text for XML content or attributes; control characters, which XML 1.0 does not allow, become spaces.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
            escaped.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&apos;",
                < ' ' or '\uFFFE' or '\uFFFF' => " ",
                _ => c.ToString(),
            });
        return escaped.ToString();
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
