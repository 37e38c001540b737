using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Kyros.Perf.Tests.Deployment;

/// <summary>
/// The Kubernetes and Compose files cannot run here (no container engine, no cluster): they are rendered and read, and
/// checked against what the silo needs (its ports, its settings, the pod identity and RBAC that UseKubernetesHosting reads).
/// </summary>
public sealed class DeploymentManifestTests
{
    private static string RepositoryRoot() => BuiltAssembly.RepositoryRoot();

    [Fact]
    public async Task The_kubernetes_manifests_render_and_give_the_silo_what_it_needs()
    {
        var kubectl = await RunAsync("kubectl", ["kustomize", Path.Combine(RepositoryRoot(), "deploy", "k8s")]);
        Assert.SkipWhen(kubectl is null, "kubectl is not installed: the manifests are not rendered here.");
        var (exitCode, output) = kubectl!.Value;
        Assert.True(exitCode == 0, output);
        var objects = Documents(output);
        JsonElement Find(string kind, string name) =>
            objects.Single(o => o.GetProperty("kind").GetString() == kind && o.GetProperty("metadata").GetProperty("name").GetString() == name);

        var silo = Find("Deployment", "kyros-perf-silo").GetProperty("spec");
        Assert.Equal("3", silo.GetProperty("replicas").GetString());
        var rolling = silo.GetProperty("strategy").GetProperty("rollingUpdate");
        Assert.Equal(("0", "1"), (rolling.GetProperty("maxUnavailable").GetString(), rolling.GetProperty("maxSurge").GetString()));
        var pod = silo.GetProperty("template");
        var labels = pod.GetProperty("metadata").GetProperty("labels");
        Assert.Equal("kyros-perf", labels.GetProperty("orleans/serviceId").GetString());
        Assert.Equal("kyros-perf", labels.GetProperty("orleans/clusterId").GetString());
        var spec = pod.GetProperty("spec");
        // Long enough for the silo's own graceful shutdown (Kyros:ShutdownTimeout, 30 s by default).
        Assert.True(int.Parse(spec.GetProperty("terminationGracePeriodSeconds").GetString()!) > 30);
        var container = spec.GetProperty("containers")[0];
        var env = container.GetProperty("env").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        foreach (var name in new[] { "POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID" })
            Assert.True(env[name].GetProperty("valueFrom").TryGetProperty("fieldRef", out _), $"{name} comes from the downward API");
        Assert.Equal("$(POD_IP)", env["Kyros__AdvertisedAddress"].GetProperty("value").GetString());
        // The ports the container declares are the ones the silo is told to use.
        var ports = container.GetProperty("ports").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("containerPort").GetString()!);
        Assert.Equal(env["Kyros__SiloPort"].GetProperty("value").GetString(), ports["silo"]);
        Assert.Equal(env["Kyros__GatewayPort"].GetProperty("value").GetString(), ports["gateway"]);
        Assert.Equal(new Uri(env["Kyros__HttpUrl"].GetProperty("value").GetString()!).Port.ToString(), ports["http"]);
        Assert.Equal("/healthz", container.GetProperty("readinessProbe").GetProperty("httpGet").GetProperty("path").GetString());
        Assert.Equal("http", container.GetProperty("readinessProbe").GetProperty("httpGet").GetProperty("port").GetString());
        Assert.True(container.TryGetProperty("livenessProbe", out _));
        Assert.True(container.GetProperty("resources").TryGetProperty("requests", out _));
        Assert.Equal("true", spec.GetProperty("securityContext").GetProperty("runAsNonRoot").GetString());
        // Secrets come from a Secret, settings from a ConfigMap.
        Assert.Equal("kyros-perf-secrets", container.GetProperty("envFrom")[0].GetProperty("secretRef").GetProperty("name").GetString()![..18]);
        Assert.DoesNotContain(env.Keys, k => k.Contains("Redis") || k.Contains("ApiKeys") || k.Contains("Auth"));
        // The silo listens beyond loopback: the Secret gives it an API key, a placeholder long enough to pass the silo's own check.
        var secret = objects.Single(o => o.GetProperty("kind").GetString() == "Secret").GetProperty("data");
        string Secret(string name) => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(secret.GetProperty(name).GetString()!));
        var auth = new Kyros.Perf.Silo.Auth.AuthOptions
        {
            Keys = [new Kyros.Perf.Silo.Auth.ApiKeyOptions { Name = Secret("Kyros__Auth__Keys__0__Name"), Key = Secret("Kyros__Auth__Keys__0__Key"),
                Scopes = [Secret("Kyros__Auth__Keys__0__Scopes__0"), Secret("Kyros__Auth__Keys__0__Scopes__1"), Secret("Kyros__Auth__Keys__0__Scopes__2")] }],
        };
        Assert.True(new Kyros.Perf.Silo.Auth.AuthOptionsValidator().Validate(null, auth).Succeeded);
        Assert.Null(Kyros.Perf.Silo.Auth.AuthOptionsValidator.RefuseOpenListening(auth, [env["Kyros__HttpUrl"].GetProperty("value").GetString()!]));

        // RBAC: the pod reader UseKubernetesHosting needs, bound to the silo's service account.
        var account = spec.GetProperty("serviceAccountName").GetString();
        Assert.Equal(account, Find("ServiceAccount", account!).GetProperty("metadata").GetProperty("name").GetString());
        var rule = Find("Role", "kyros-perf-pod-reader").GetProperty("rules")[0];
        Assert.Contains("pods", rule.GetProperty("resources").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["delete", "get", "list", "patch", "watch"], rule.GetProperty("verbs").EnumerateArray().Select(v => v.GetString()!).Order());
        var binding = Find("RoleBinding", "kyros-perf-pod-reader");
        Assert.Equal(account, binding.GetProperty("subjects")[0].GetProperty("name").GetString());
        Assert.Equal("kyros-perf-pod-reader", binding.GetProperty("roleRef").GetProperty("name").GetString());

        // Services reach the named ports, a disruption budget keeps drains to one silo at a time.
        Assert.Equal("http", Find("Service", "kyros-perf-http").GetProperty("spec").GetProperty("ports")[0].GetProperty("targetPort").GetString());
        var gateway = Find("Service", "kyros-perf-gateway").GetProperty("spec");
        Assert.Equal(("None", "gateway"), (gateway.GetProperty("clusterIP").GetString(), gateway.GetProperty("ports")[0].GetProperty("targetPort").GetString()));
        Assert.Equal("1", objects.Single(o => o.GetProperty("kind").GetString() == "PodDisruptionBudget").GetProperty("spec").GetProperty("maxUnavailable").GetString());

        // The settings the ConfigMap ships are ones the silo accepts: its catalog passes the silo's own validation.
        var settings = objects.Single(o => o.GetProperty("kind").GetString() == "ConfigMap").GetProperty("data").GetProperty("appsettings.json").GetString()!;
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(settings))).Build();
        var catalog = new ModelCatalogOptions();
        configuration.GetSection(ModelCatalogOptions.Section).Bind(catalog);
        Assert.NotEmpty(catalog.Models);
        Assert.True(new ModelCatalogOptionsValidator().Validate(null, catalog).Succeeded);
    }

    [Fact]
    public void The_compose_file_names_the_same_ports_and_settings()
    {
        using var reader = new StreamReader(Path.Combine(RepositoryRoot(), "deploy", "compose.yaml"));
        var compose = Documents(reader.ReadToEnd()).Single();
        var services = compose.GetProperty("services");
        Assert.True(services.TryGetProperty("redis", out _));
        var silos = services.EnumerateObject().Where(s => s.Name.StartsWith("silo", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, silos.Length);
        foreach (var silo in silos)
        {
            var env = silo.Value.GetProperty("environment");
            Assert.Equal("redis:6379", env.GetProperty("Kyros__Redis").GetString());
            Assert.Equal(("11111", "30000"), (env.GetProperty("Kyros__SiloPort").GetString(), env.GetProperty("Kyros__GatewayPort").GetString()));
            Assert.Equal(5080, new Uri(env.GetProperty("Kyros__HttpUrl").GetString()!).Port);
            Assert.Equal(silo.Name, env.GetProperty("Kyros__HostName").GetString());
            // Each silo advertises the address compose gives it.
            Assert.Equal(silo.Value.GetProperty("networks").GetProperty("kyros").GetProperty("ipv4_address").GetString(), env.GetProperty("Kyros__AdvertisedAddress").GetString());
            Assert.Contains(silo.Value.GetProperty("ports").EnumerateArray(), p => p.GetString()!.EndsWith(":5080", StringComparison.Ordinal));
            Assert.Contains("healthcheck", silo.Value.GetProperty("healthcheck").GetProperty("test").EnumerateArray().Select(t => t.GetString()));
            // Listening beyond loopback, a silo starts only with API keys: its key comes from the operator's environment.
            Assert.StartsWith("${KYROS_API_KEY:?", env.GetProperty("Kyros__Auth__Keys__0__Key").GetString());
            Assert.Equal("admin", env.GetProperty("Kyros__Auth__Keys__0__Scopes__2").GetString());
        }
    }

    [Fact]
    public async Task The_grafana_dashboard_reads_only_metrics_a_silo_writes_and_compose_provisions_it_over_prometheus()
    {
        var root = RepositoryRoot();
        using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(root, "deploy", "grafana", "dashboards", "kyros-perf.json")));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        var expressions = panels.Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!)).ToList();
        var used = expressions.SelectMany(e => System.Text.RegularExpressions.Regex.Matches(e, @"kyros_[a-z0-9_]+").Select(m => m.Value)).ToHashSet();
        Assert.Contains("kyros_model_latency_seconds", used);
        Assert.Contains("kyros_host_alerts_active", used);

        // A silo with records and a GPU host's samples writes every family the dashboard reads.
        await using var silo = await HttpSilo.StartAsync(null, Array.Empty<string>());
        var now = DateTimeOffset.UtcNow;
        (await silo.Http.PostAsJsonAsync("/v1/performance/records", new[]
        {
            new { model = "gpt-4", execution_time = 1.2, time_to_first_token = 0.3, cost = 0.01, quality_score = 0.9, request_id = "grafana-1", timestamp = now },
        })).EnsureSuccessStatusCode();
        // Two hot samples in a row: an active alert, so that the alert family has a series too.
        (await silo.Http.PostAsJsonAsync("/v1/resources/nodes/grafana-gpu/samples", new[] { now.AddSeconds(-1), now }.Select(at => new
        {
            timestamp = at, cpu_percent = 99.0, memory_percent = 50.0,
            gpus = new[] { new { index = 0, name = "GPU", utilization_percent = 60.0, memory_used_bytes = 1L << 30, memory_total_bytes = 8L << 30 } },
        }))).EnsureSuccessStatusCode();
        var metrics = await silo.Http.GetStringAsync("/metrics?window=5m");
        var written = System.Text.RegularExpressions.Regex.Matches(metrics, @"^(kyros_[a-z0-9_]+)\{", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToHashSet();
        foreach (var name in used) Assert.True(written.Contains(name), $"the dashboard reads {name}, which the silo does not write");
        Assert.All(expressions.Where(e => e.StartsWith("kyros_model_", StringComparison.Ordinal)), e => Assert.Contains("window=\"5m\"", e));

        using var reader = new StreamReader(Path.Combine(root, "deploy", "compose.yaml"));
        var services = Documents(reader.ReadToEnd()).Single().GetProperty("services");
        var grafana = services.GetProperty("grafana");
        var volumes = grafana.GetProperty("volumes").EnumerateArray().Select(v => v.GetString()!).ToList();
        Assert.Contains("./grafana/dashboards:/var/lib/grafana/dashboards:ro", volumes);
        Assert.Contains("./grafana/provisioning:/etc/grafana/provisioning:ro", volumes);
        // Every mounted folder is in the repository, and the datasource the dashboard names is the one provisioned.
        foreach (var volume in volumes.Concat(services.GetProperty("prometheus").GetProperty("volumes").EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)))
            Assert.True(Path.Exists(Path.Combine(root, "deploy", volume.Split(':')[0])), $"{volume} mounts nothing");
        var datasource = Documents(await File.ReadAllTextAsync(Path.Combine(root, "deploy", "grafana", "provisioning", "datasources", "prometheus.yaml"))).Single();
        Assert.Equal("kyros-prometheus", datasource.GetProperty("datasources")[0].GetProperty("uid").GetString());
        var prometheus = Documents(await File.ReadAllTextAsync(Path.Combine(root, "deploy", "prometheus", "prometheus.yml"))).Single();
        var job = prometheus.GetProperty("scrape_configs")[0];
        Assert.Equal("/metrics", job.GetProperty("metrics_path").GetString());
        Assert.Equal("5m", job.GetProperty("params").GetProperty("window")[0].GetString());
    }

    [Fact]
    public async Task The_silos_healthcheck_command_answers_0_for_a_healthy_silo_and_1_for_none()
    {
        await using var silo = await HttpSilo.StartAsync(null, Array.Empty<string>());
        var dll = BuiltAssembly.Path("silo", "Kyros.Perf.Silo.dll");
        var healthy = await RunAsync("dotnet", [dll, "healthcheck", $"--Kyros:HttpUrl={silo.Http.BaseAddress!.ToString().TrimEnd('/')}"]);
        Assert.Equal(0, healthy!.Value.ExitCode);
        Assert.Contains("\"status\":\"ok\"", healthy.Value.Output);
        var none = await RunAsync("dotnet", [dll, "healthcheck", $"--Kyros:HttpUrl=http://127.0.0.1:{FreePort.Next()}"]);
        Assert.Equal(1, none!.Value.ExitCode);
    }

    /// <summary>Each YAML document as JSON (scalars as strings).</summary>
    private static List<JsonElement> Documents(string yaml)
    {
        // MergingParser applies "<<: *anchor" merge keys, as compose does.
        var parser = new MergingParser(new Parser(new StringReader(yaml)));
        var deserializer = new DeserializerBuilder().Build();
        var json = new SerializerBuilder().JsonCompatible().Build();
        var documents = new List<JsonElement>();
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
        {
            var document = deserializer.Deserialize(parser);
            if (document is not null) documents.Add(JsonDocument.Parse(json.Serialize(document)).RootElement.Clone());
        }
        return documents;
    }

    /// <summary>The program's exit code and output; null when it is not installed.</summary>
    private static async Task<(int ExitCode, string Output)?> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output + await error);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
