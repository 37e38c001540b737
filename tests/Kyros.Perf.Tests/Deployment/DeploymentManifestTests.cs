using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kyros.Perf.Catalog;
using Kyros.Perf.Durability;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Kyros.Perf.Tests.Deployment;

/// <summary>
/// The Kubernetes and Compose files cannot run here (no container engine, no cluster): they are rendered and read, and
/// checked against what the silo needs (its ports, its settings, the pod identity and RBAC that UseKubernetesHosting reads,
/// a Redis that keeps what it acknowledged, a history file that outlives its pod).
/// </summary>
public sealed class DeploymentManifestTests
{
    private static string RepositoryRoot() => BuiltAssembly.RepositoryRoot();

    [Fact]
    public async Task The_kubernetes_manifests_render_and_give_the_silo_what_it_needs()
    {
        var objects = await RenderAsync("deploy", "k8s");
        JsonElement Find(string kind, string name) => FindObject(objects, kind, name);
        Assert.DoesNotContain(objects, o => o.GetProperty("kind").GetString() == "Deployment");

        var (pod, env) = AssertSiloStatefulSet(objects);
        var spec = pod.GetProperty("spec");
        var container = spec.GetProperty("containers")[0];
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
        // The silo listens beyond loopback: the Secret gives it an API key, a placeholder the silo refuses to start with
        // (exit code 2) until it is replaced by a generated key.
        var secret = Secret(objects);
        var auth = new Kyros.Perf.Silo.Auth.AuthOptions
        {
            Keys = [new Kyros.Perf.Silo.Auth.ApiKeyOptions { Name = secret["Kyros__Auth__Keys__0__Name"], Key = secret["Kyros__Auth__Keys__0__Key"],
                Scopes = [secret["Kyros__Auth__Keys__0__Scopes__0"], secret["Kyros__Auth__Keys__0__Scopes__1"], secret["Kyros__Auth__Keys__0__Scopes__2"]] }],
        };
        Assert.True(new Kyros.Perf.Silo.Auth.AuthOptionsValidator().Validate(null, auth).Succeeded);
        Assert.Null(Kyros.Perf.Silo.Auth.AuthOptionsValidator.RefuseOpenListening(auth, [env["Kyros__HttpUrl"].GetProperty("value").GetString()!]));
        Assert.Contains("is a placeholder", Assert.Single(Kyros.Perf.Silo.Auth.AuthOptionsValidator.RefuseWeakKeys(auth, [env["Kyros__HttpUrl"].GetProperty("value").GetString()!])));
        // Without the sentinel overlay the silos use the one Redis, through its Service.
        var redisConnection = ConfigurationOptions.Parse(secret["Kyros__Redis"]);
        Assert.Equal("redis:6379", Assert.IsType<DnsEndPoint>(Assert.Single(redisConnection.EndPoints)) is var e ? $"{e.Host}:{e.Port}" : "");
        // With the password Redis is given (the redis-auth Secret).
        Assert.Equal(Secret(objects, "redis-auth")["password"], redisConnection.Password);
        Assert.True(Selects(Find("Service", "redis").GetProperty("spec").GetProperty("selector"), PodLabels(Find("StatefulSet", "redis"))));

        // RBAC: the pod reader UseKubernetesHosting needs, bound to the silo's service account.
        var account = spec.GetProperty("serviceAccountName").GetString();
        Assert.Equal(account, Find("ServiceAccount", account!).GetProperty("metadata").GetProperty("name").GetString());
        var rule = Find("Role", "kyros-perf-pod-reader").GetProperty("rules")[0];
        Assert.Contains("pods", rule.GetProperty("resources").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["delete", "get", "list", "patch", "watch"], rule.GetProperty("verbs").EnumerateArray().Select(v => v.GetString()!).Order());
        var binding = Find("RoleBinding", "kyros-perf-pod-reader");
        Assert.Equal(account, binding.GetProperty("subjects")[0].GetProperty("name").GetString());
        Assert.Equal("kyros-perf-pod-reader", binding.GetProperty("roleRef").GetProperty("name").GetString());

        // The settings the ConfigMap ships are ones the silo accepts: its catalog passes the silo's own validation.
        var settings = objects.Single(o => o.GetProperty("kind").GetString() == "ConfigMap").GetProperty("data").GetProperty("appsettings.json").GetString()!;
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(settings))).Build();
        var catalog = new ModelCatalogOptions();
        configuration.GetSection(ModelCatalogOptions.Section).Bind(catalog);
        Assert.NotEmpty(catalog.Models);
        Assert.True(new ModelCatalogOptionsValidator().Validate(null, catalog).Succeeded);
    }

    [Fact]
    public async Task Every_kubernetes_redis_keeps_an_append_only_file_on_its_own_claim()
    {
        foreach (var overlay in new[] { "k8s", Path.Combine("k8s", "sentinel") })
        {
            var objects = await RenderAsync("deploy", overlay);
            Assert.DoesNotContain(objects, o => o.GetProperty("kind").GetString() == "Deployment" && RedisContainers(o).Any());
            var redis = objects.Where(o => o.GetProperty("kind").GetString() == "StatefulSet")
                .SelectMany(o => RedisContainers(o).Where(c => !Arguments(c).Contains("--sentinel")).Select(c => (Set: o, Container: c))).ToList();
            Assert.NotEmpty(redis);
            foreach (var (set, container) in redis)
            {
                var name = set.GetProperty("metadata").GetProperty("name").GetString();
                var dir = AssertAppendOnly(Arguments(container), $"{overlay}: {name}");
                var mount = container.GetProperty("volumeMounts").EnumerateArray().Single(m => m.GetProperty("mountPath").GetString() == dir);
                Assert.Contains(mount.GetProperty("name").GetString(), Claims(set));
                // Its stable name (pod-0.serviceName) comes from a headless Service that selects its pods.
                AssertHeadlessServiceFor(objects, set);
            }
            // The silo refuses a Redis without AOF in Production: no shipped manifest lets it start on one.
            Assert.DoesNotContain(Secret(objects).Keys, k => k.Contains("AllowVolatile", StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task The_sentinel_overlay_watches_the_primary_and_points_the_silos_at_the_sentinels()
    {
        var objects = await RenderAsync("deploy", "k8s", "sentinel");
        JsonElement Find(string kind, string name) => FindObject(objects, kind, name);
        // The silos are the same StatefulSet as without the overlay.
        AssertSiloStatefulSet(objects);

        var sentinels = Find("StatefulSet", "redis-sentinel");
        var count = int.Parse(sentinels.GetProperty("spec").GetProperty("replicas").GetString()!);
        Assert.Equal(3, count);
        var service = AssertHeadlessServiceFor(objects, sentinels);
        var podSpec = sentinels.GetProperty("spec").GetProperty("template").GetProperty("spec");
        var sentinel = podSpec.GetProperty("containers")[0];
        var arguments = Arguments(sentinel);
        Assert.Contains("--sentinel", arguments);
        // Sentinel rewrites its config: the file it runs on is on an emptyDir, filled by an init container from the ConfigMap.
        var volumes = podSpec.GetProperty("volumes").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        var configFile = arguments.Single(a => a.EndsWith(".conf", StringComparison.Ordinal));
        var configMount = sentinel.GetProperty("volumeMounts").EnumerateArray().Single(m => configFile.StartsWith(m.GetProperty("mountPath").GetString()! + "/", StringComparison.Ordinal));
        Assert.True(volumes[configMount.GetProperty("name").GetString()!].TryGetProperty("emptyDir", out _));
        var init = podSpec.GetProperty("initContainers")[0];
        var initMounts = init.GetProperty("volumeMounts").EnumerateArray().Select(m => m.GetProperty("name").GetString()!).ToList();
        Assert.Contains(configMount.GetProperty("name").GetString(), initMounts);
        var template = initMounts.Select(n => volumes[n]).Single(v => v.TryGetProperty("configMap", out _)).GetProperty("configMap").GetProperty("name").GetString()!;
        Assert.Contains(configFile[(configFile.LastIndexOf('/') + 1)..], string.Join(' ', Arguments(init)));
        var config = Find("ConfigMap", template).GetProperty("data").EnumerateObject().Single().Value.GetString()!;

        // They watch the primary by its stable DNS name, with a quorum they can reach; the primary keeps an AOF.
        var monitor = AssertSentinelConfig(config, count);
        var primary = objects.Single(o => o.GetProperty("kind").GetString() == "StatefulSet" && RedisContainers(o).Any()
            && monitor.Host == $"{o.GetProperty("metadata").GetProperty("name").GetString()}-0.{o.GetProperty("spec").GetProperty("serviceName").GetString()}");
        Assert.Equal("6379", monitor.Port);
        AssertAppendOnly(Arguments(RedisContainers(primary).Single()), "the primary");
        // Each instance announces its own stable name, as Sentinel's hostname support asks.
        Assert.Contains(monitor.Host, Arguments(RedisContainers(primary).Single()));
        var replica = Find("StatefulSet", "redis-replica");
        AssertAppendOnly(Arguments(RedisContainers(replica).Single()), "the replica");

        // The silos' Redis is the Sentinels, in StackExchange.Redis's form, and a write waits for one replica.
        var secret = Secret(objects);
        var options = ConfigurationOptions.Parse(secret["Kyros__Redis"]);
        Assert.Equal("kyros", options.ServiceName);
        Assert.Equal(monitor.Name, options.ServiceName);
        var sentinelName = sentinels.GetProperty("metadata").GetProperty("name").GetString();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"{sentinelName}-{i}.{service}:26379"),
            options.EndPoints.Select(e => Assert.IsType<DnsEndPoint>(e)).Select(e => $"{e.Host}:{e.Port}"));
        Assert.Equal("26379", sentinel.GetProperty("ports")[0].GetProperty("containerPort").GetString());
        var durability = SiloRedisOptions(secret);
        Assert.Equal(1, durability.ReplicaAcks);
        Assert.True(new RedisDurabilityOptionsValidator().Validate(null, durability).Succeeded);
        Assert.False(durability.AllowVolatile);
    }

    [Fact]
    public async Task Kubernetes_admits_only_the_silos_to_orleans_and_redis_and_runs_every_container_locked_down()
    {
        foreach (var folder in new[] { "k8s", Path.Combine("k8s", "sentinel") })
        {
            var objects = await RenderAsync("deploy", folder);
            var policies = objects.Where(o => o.GetProperty("kind").GetString() == "NetworkPolicy").ToList();
            // Nothing is reachable unless a policy says so.
            Assert.Contains(policies, p => p.GetProperty("spec").GetProperty("podSelector").EnumerateObject().Count() == 0
                                           && p.GetProperty("spec").GetProperty("policyTypes").EnumerateArray().Any(t => t.GetString() == "Ingress")
                                           && !p.GetProperty("spec").TryGetProperty("ingress", out _));
            var silo = FindObject(objects, "NetworkPolicy", "kyros-perf-silo").GetProperty("spec");
            var orleans = silo.GetProperty("ingress").EnumerateArray().Single(r => r.GetProperty("ports").EnumerateArray().Any(p => p.GetProperty("port").GetString() == "30000"));
            Assert.Equal(["11111", "30000"], orleans.GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("port").GetString()!).Order());
            Assert.All(orleans.GetProperty("from").EnumerateArray(), f => Assert.True(f.TryGetProperty("podSelector", out _) && !f.TryGetProperty("namespaceSelector", out _)));
            var http = silo.GetProperty("ingress").EnumerateArray().Single(r => r.GetProperty("ports").EnumerateArray().Any(p => p.GetProperty("port").GetString() == "5080"));
            Assert.All(http.GetProperty("from").EnumerateArray(), f => Assert.True(f.TryGetProperty("namespaceSelector", out _)));
            var redis = FindObject(objects, "NetworkPolicy", "kyros-perf-redis").GetProperty("spec");
            Assert.Equal("kyros-perf-silo", redis.GetProperty("ingress")[0].GetProperty("from")[0].GetProperty("podSelector").GetProperty("matchLabels").GetProperty("app").GetString());

            // Every container: no privilege to gain, nothing written outside its volumes, no capability.
            foreach (var workload in objects.Where(o => o.GetProperty("kind").GetString() == "StatefulSet"))
            {
                var pod = workload.GetProperty("spec").GetProperty("template").GetProperty("spec");
                Assert.Equal("RuntimeDefault", pod.GetProperty("securityContext").GetProperty("seccompProfile").GetProperty("type").GetString());
                Assert.Equal("true", pod.GetProperty("securityContext").GetProperty("runAsNonRoot").GetString());
                var containers = pod.GetProperty("containers").EnumerateArray().Concat(pod.TryGetProperty("initContainers", out var init) ? init.EnumerateArray() : []);
                foreach (var container in containers)
                {
                    var context = container.GetProperty("securityContext");
                    Assert.Equal("false", context.GetProperty("allowPrivilegeEscalation").GetString());
                    Assert.Equal("true", context.GetProperty("readOnlyRootFilesystem").GetString());
                    Assert.Equal(["ALL"], context.GetProperty("capabilities").GetProperty("drop").EnumerateArray().Select(c => c.GetString()));
                }
                // A Redis data node takes the password from the redis-auth Secret.
                if (workload.GetProperty("metadata").GetProperty("name").GetString() is "redis" or "redis-replica")
                {
                    var args = pod.GetProperty("containers")[0].GetProperty("args").EnumerateArray().Select(a => a.GetString()).ToList();
                    Assert.Equal("$(REDIS_PASSWORD)", args[args.IndexOf("--requirepass") + 1]);
                    Assert.Contains(pod.GetProperty("containers")[0].GetProperty("env").EnumerateArray(), v => v.GetProperty("name").GetString() == "REDIS_PASSWORD"
                        && v.GetProperty("valueFrom").GetProperty("secretKeyRef").GetProperty("name").GetString()!.StartsWith("redis-auth", StringComparison.Ordinal));
                }
            }
            Assert.Equal(Secret(objects, "redis-auth")["password"], ConfigurationOptions.Parse(Secret(objects)["Kyros__Redis"]).Password);
        }
    }

    [Fact]
    public void The_compose_file_names_the_same_ports_and_settings()
    {
        var compose = Compose();
        var services = compose.GetProperty("services");
        Assert.True(services.TryGetProperty("redis", out _));
        var silos = services.EnumerateObject().Where(s => s.Name.StartsWith("silo", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, silos.Length);
        var declared = compose.GetProperty("volumes").EnumerateObject().Select(v => v.Name).ToHashSet();
        var historyVolumes = new List<string>();
        foreach (var silo in silos)
        {
            var env = silo.Value.GetProperty("environment");
            // Without compose-sentinel.env the silos use the one Redis.
            Assert.Equal("redis:6379,password=pw", Interpolate(env.GetProperty("Kyros__Redis").GetString()!, new Dictionary<string, string> { ["KYROS_REDIS_PASSWORD"] = "pw" }));
            Assert.Equal("0", Interpolate(env.GetProperty("Kyros__Redis__ReplicaAcks").GetString()!, new Dictionary<string, string>()));
            Assert.Equal(("11111", "30000"), (env.GetProperty("Kyros__SiloPort").GetString(), env.GetProperty("Kyros__GatewayPort").GetString()));
            Assert.Equal(5080, new Uri(env.GetProperty("Kyros__HttpUrl").GetString()!).Port);
            Assert.Equal(silo.Name, env.GetProperty("Kyros__HostName").GetString());
            // Each silo advertises the address compose gives it.
            Assert.Equal(silo.Value.GetProperty("networks").GetProperty("kyros").GetProperty("ipv4_address").GetString(), env.GetProperty("Kyros__AdvertisedAddress").GetString());
            // HTTP is published; the Orleans ports, which have no authentication of their own, are not.
            Assert.Equal([":5080"], silo.Value.GetProperty("ports").EnumerateArray().Select(p => p.GetString()![p.GetString()!.LastIndexOf(':')..]));
            Assert.Equal("read", env.GetProperty("Kyros__Auth__Keys__1__Scopes__0").GetString());
            Assert.False(env.TryGetProperty("Kyros__Auth__Keys__1__Scopes__1", out _));
            Assert.Contains("healthcheck", silo.Value.GetProperty("healthcheck").GetProperty("test").EnumerateArray().Select(t => t.GetString()));
            // Listening beyond loopback, a silo starts only with API keys: its key comes from the operator's environment.
            Assert.StartsWith("${KYROS_API_KEY:?", env.GetProperty("Kyros__Auth__Keys__0__Key").GetString());
            Assert.Equal("admin", env.GetProperty("Kyros__Auth__Keys__0__Scopes__2").GetString());
            Assert.False(env.TryGetProperty("Kyros__Redis__AllowVolatile", out _));
            // Orleans' mutual TLS: the files deploy/make-dev-certs.sh writes into deploy/tls/silo, mounted read-only.
            var tlsFiles = TlsVariables.Select(n => env.GetProperty(n).GetString()!).ToArray();
            Assert.All(tlsFiles, f => Assert.Equal(ParentOf(tlsFiles[0]), ParentOf(f)));
            Assert.Contains(silo.Value.GetProperty("volumes").EnumerateArray().Select(v => v.GetString()), v => v == $"./tls/silo:{ParentOf(tlsFiles[0])}:ro");
            Assert.False(env.TryGetProperty("Kyros__Tls__Enabled", out _));
            // Its history file is on a named volume of its own.
            var volume = AssertVolumeAt(silo.Value, ParentOf(env.GetProperty("Kyros__History__DatabasePath").GetString()!), declared);
            historyVolumes.Add(volume);
            // It reaches Redis: they share a network.
            Assert.Contains(services.GetProperty("redis").GetProperty("networks").EnumerateArray().Select(n => n.GetString()),
                n => silo.Value.GetProperty("networks").TryGetProperty(n!, out _));
        }
        Assert.Equal(silos.Length, historyVolumes.Distinct().Count());
    }

    /// <summary>The settings that give a silo its certificate, its key and the cluster's CA.</summary>
    private static readonly string[] TlsVariables = ["Kyros__Tls__CertificatePath", "Kyros__Tls__KeyPath", "Kyros__Tls__CaPath"];

    [Fact]
    public async Task The_dev_certificate_script_makes_a_CA_and_certificates_that_silos_and_clients_load_and_trust()
    {
        var directory = Directory.CreateTempSubdirectory("kyros-dev-certs-").FullName;
        var script = Path.Combine(RepositoryRoot(), "deploy", "make-dev-certs.sh");
        var made = await RunAsync("bash", [script, directory]);
        Assert.True(made is { ExitCode: 0 }, made?.Output);
        Kyros.Perf.Client.KyrosTls Load(string role)
        {
            var failures = new List<string>();
            var options = new Kyros.Perf.Client.KyrosTlsOptions
            {
                CertificatePath = Path.Combine(directory, role, "tls.crt"),
                KeyPath = Path.Combine(directory, role, "tls.key"),
                CaPath = Path.Combine(directory, role, "ca.crt"),
            };
            Assert.Empty(options.Validate(enabled: true));
            var tls = Kyros.Perf.Client.KyrosTls.Load(options, failures);
            Assert.Empty(failures);
            return tls!;
        }
        var silo = Load("silo");
        var client = Load("client");
        Assert.True(silo.ChainsToAuthority(client.Certificate));
        Assert.True(client.ChainsToAuthority(silo.Certificate));
        // The CA's key stays out of what silos and clients mount.
        Assert.DoesNotContain(Directory.GetFiles(directory, "*", SearchOption.AllDirectories), f => f.EndsWith("ca.key", StringComparison.Ordinal) && !f.Contains("/ca/", StringComparison.Ordinal));
        // Run again, it keeps the CA: the new certificates are trusted by silos still running on the old files.
        var again = await RunAsync("bash", [script, directory]);
        Assert.True(again is { ExitCode: 0 }, again?.Output);
        var renewed = Load("silo");
        Assert.NotEqual(silo.Certificate.Thumbprint, renewed.Certificate.Thumbprint);
        Assert.True(silo.ChainsToAuthority(renewed.Certificate));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void Every_compose_redis_keeps_an_append_only_file_on_a_named_volume_and_the_sentinel_profile_watches_the_primary()
    {
        var compose = Compose();
        var services = compose.GetProperty("services").EnumerateObject().ToDictionary(s => s.Name, s => s.Value);
        var declared = compose.GetProperty("volumes").EnumerateObject().Select(v => v.Name).ToHashSet();
        static bool IsSentinel(JsonElement service) => Command(service).Any(a => a.Contains("--sentinel", StringComparison.Ordinal));
        var redis = services.Where(s => s.Value.GetProperty("image").GetString()!.StartsWith("redis:", StringComparison.Ordinal) && !IsSentinel(s.Value)).ToList();
        Assert.Contains("redis", redis.Select(r => r.Key));
        foreach (var (name, service) in redis)
            AssertVolumeAt(service, AssertAppendOnly(Command(service), name), declared);

        // Profile sentinel: a replica and three Sentinels watching the primary by its name, with a quorum they can reach.
        static bool InSentinelProfile(JsonElement service) =>
            service.TryGetProperty("profiles", out var profiles) && profiles.EnumerateArray().Any(p => p.GetString() == "sentinel");
        Assert.False(InSentinelProfile(services["redis"]));
        Assert.Contains(redis, r => InSentinelProfile(r.Value) && Command(r.Value).Contains("/data"));
        var sentinels = services.Where(s => IsSentinel(s.Value)).ToList();
        Assert.Equal(3, sentinels.Count);
        Assert.All(sentinels, s => Assert.True(InSentinelProfile(s.Value)));
        var configs = compose.GetProperty("configs");
        foreach (var (name, sentinel) in sentinels)
        {
            var source = sentinel.GetProperty("configs")[0];
            // The config compose mounts is copied to a writable file before Sentinel starts on it.
            Assert.Contains($"cp {source.GetProperty("target").GetString()} ", string.Join(' ', Command(sentinel)));
            var monitor = AssertSentinelConfig(configs.GetProperty(source.GetProperty("source").GetString()!).GetProperty("content").GetString()!, sentinels.Count);
            Assert.Equal(("redis", "6379"), (monitor.Host, monitor.Port));
            Assert.Equal(name, sentinel.GetProperty("environment").GetProperty("SENTINEL_NAME").GetString());
        }

        // compose-sentinel.env turns the profile on and points the silos at the Sentinels, with one replica's acknowledgement.
        var file = File.ReadAllLines(Path.Combine(RepositoryRoot(), "deploy", "compose-sentinel.env"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("sentinel", file["COMPOSE_PROFILES"]);
        var env = services["silo1"].GetProperty("environment");
        var options = ConfigurationOptions.Parse(Interpolate(env.GetProperty("Kyros__Redis").GetString()!, file));
        Assert.Equal("kyros", options.ServiceName);
        Assert.Equal(sentinels.Select(s => $"{s.Key}:26379"), options.EndPoints.Select(e => Assert.IsType<DnsEndPoint>(e)).Select(e => $"{e.Host}:{e.Port}"));
        var durability = SiloRedisOptions(new Dictionary<string, string>
        {
            ["Kyros__Redis"] = Interpolate(env.GetProperty("Kyros__Redis").GetString()!, file),
            ["Kyros__Redis__ReplicaAcks"] = Interpolate(env.GetProperty("Kyros__Redis__ReplicaAcks").GetString()!, file),
        });
        Assert.Equal(1, durability.ReplicaAcks);
        Assert.True(new RedisDurabilityOptionsValidator().Validate(null, durability).Succeeded);
    }

    [Fact]
    public void The_local_cluster_runs_redis_with_an_append_only_file_under_deploy_run()
    {
        var script = File.ReadAllText(Path.Combine(RepositoryRoot(), "deploy", "local-cluster.sh")).Replace("\\\n", " ");
        var lines = script.Split('\n');
        var start = lines.Where(l => l.TrimStart().StartsWith("redis-server ", StringComparison.Ordinal)).ToList();
        Assert.Single(start);
        var arguments = Regex.Matches(start[0], @"""[^""]*""|'[^']*'|\S+").Select(m => m.Value.Trim('"', '\'')).ToList();
        var dir = AssertAppendOnly(arguments, "local-cluster.sh");
        // The directory is under deploy/run/ (where its pid and log are), so start-redis finds the same AOF again.
        Assert.StartsWith("$run/", dir);
        Assert.Contains("run=\"$root/deploy/run\"", lines.Select(l => l.Trim()));
        Assert.Equal("$redis_port", arguments[arguments.IndexOf("--port") + 1]);
        Assert.Contains(lines, l => l.Contains("Kyros__Redis=\"127.0.0.1:$redis_port\"", StringComparison.Ordinal));
        // The commands it takes are the ones its header lists, fault drills included.
        var commands = Regex.Matches(script, @"^  ([a-z-]+)\) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        var documented = Regex.Matches(script, @"^#   deploy/local-cluster\.sh ([a-z-]+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(commands.Order(), documented.Order());
        Assert.Contains("kill-redis", commands);
        Assert.Contains("start-redis", commands);
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

    /// <summary>The silos' StatefulSet, checked for what the silo needs; its pod template and its container's env.</summary>
    private static (JsonElement Pod, Dictionary<string, JsonElement> Env) AssertSiloStatefulSet(List<JsonElement> objects)
    {
        var set = FindObject(objects, "StatefulSet", "kyros-perf-silo");
        var silo = set.GetProperty("spec");
        Assert.Equal("3", silo.GetProperty("replicas").GetString());
        // One pod at a time (a StatefulSet cannot surge): the next goes once the new one is ready.
        var update = silo.GetProperty("updateStrategy");
        Assert.Equal("RollingUpdate", update.GetProperty("type").GetString());
        if (update.TryGetProperty("rollingUpdate", out var rolling))
        {
            if (rolling.TryGetProperty("maxUnavailable", out var most)) Assert.Equal("1", most.GetString());
            if (rolling.TryGetProperty("partition", out var partition)) Assert.Equal("0", partition.GetString());
        }
        var pod = silo.GetProperty("template");
        var labels = pod.GetProperty("metadata").GetProperty("labels");
        Assert.True(Selects(silo.GetProperty("selector").GetProperty("matchLabels"), labels));
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
        // Secrets come from a Secret, settings from a ConfigMap.
        Assert.Equal("kyros-perf-secrets", container.GetProperty("envFrom")[0].GetProperty("secretRef").GetProperty("name").GetString()![..18]);
        Assert.DoesNotContain(env.Keys, k => k.Contains("Redis") || k.Contains("ApiKeys") || k.Contains("Auth"));

        // Each pod mounts a claim of its own where the silo keeps its SQLite history, so a replaced pod finds its file again.
        var history = ParentOf(env["Kyros__History__DatabasePath"].GetProperty("value").GetString()!);
        var mount = container.GetProperty("volumeMounts").EnumerateArray()
            .Single(m => history == m.GetProperty("mountPath").GetString() || history.StartsWith(m.GetProperty("mountPath").GetString()!.TrimEnd('/') + "/", StringComparison.Ordinal));
        var claim = mount.GetProperty("name").GetString()!;
        Assert.Contains(claim, Claims(set));
        Assert.DoesNotContain(spec.GetProperty("volumes").EnumerateArray(), v => v.GetProperty("name").GetString() == claim);
        var template = silo.GetProperty("volumeClaimTemplates").EnumerateArray().Single(c => c.GetProperty("metadata").GetProperty("name").GetString() == claim);
        Assert.Contains("ReadWriteOnce", template.GetProperty("spec").GetProperty("accessModes").EnumerateArray().Select(m => m.GetString()));
        AssertHeadlessServiceFor(objects, set);

        // Orleans' ports take only certificates from the cluster's CA: the pod's come from the Secret kyros-tls, mounted
        // read-only, under the key names cert-manager and `kubectl create secret generic --from-file` give them.
        var tlsFiles = TlsVariables.Select(n => env[n].GetProperty("value").GetString()!).ToArray();
        Assert.Equal(["ca.crt", "tls.crt", "tls.key"], tlsFiles.Select(f => f[(f.LastIndexOf('/') + 1)..]).Order(StringComparer.Ordinal));
        var tlsMount = container.GetProperty("volumeMounts").EnumerateArray().Single(m => m.GetProperty("mountPath").GetString() == ParentOf(tlsFiles[0]));
        Assert.All(tlsFiles, f => Assert.Equal(ParentOf(tlsFiles[0]), ParentOf(f)));
        Assert.Equal("true", tlsMount.GetProperty("readOnly").GetString());
        var tlsVolume = spec.GetProperty("volumes").EnumerateArray().Single(v => v.GetProperty("name").GetString() == tlsMount.GetProperty("name").GetString());
        Assert.Equal("kyros-tls", tlsVolume.GetProperty("secret").GetProperty("secretName").GetString());
        // The operator makes that Secret (docs/deployment.md): no key ships in the manifests.
        Assert.DoesNotContain(objects, o => o.GetProperty("kind").GetString() == "Secret" && o.GetProperty("metadata").GetProperty("name").GetString()!.StartsWith("kyros-tls", StringComparison.Ordinal));
        // Nothing turns TLS off, and a silo advertising its pod IP needs it.
        Assert.False(env.ContainsKey("Kyros__Tls__Enabled"));
        Assert.True(new Kyros.Perf.Silo.KyrosSiloOptions { Redis = "redis:6379", AdvertisedAddress = "10.1.2.3" }.UsesTls);

        // Services reach the named ports of these pods; a disruption budget keeps drains to one silo at a time (two of three serve).
        var http = FindObject(objects, "Service", "kyros-perf-http").GetProperty("spec");
        Assert.Equal("http", http.GetProperty("ports")[0].GetProperty("targetPort").GetString());
        Assert.True(Selects(http.GetProperty("selector"), labels));
        var gateway = FindObject(objects, "Service", "kyros-perf-gateway").GetProperty("spec");
        Assert.Equal(("None", "gateway"), (gateway.GetProperty("clusterIP").GetString(), gateway.GetProperty("ports")[0].GetProperty("targetPort").GetString()));
        Assert.True(Selects(gateway.GetProperty("selector"), labels));
        var budget = FindObject(objects, "PodDisruptionBudget", "kyros-perf-silo").GetProperty("spec");
        Assert.Equal("1", budget.GetProperty("maxUnavailable").GetString());
        Assert.True(Selects(budget.GetProperty("selector").GetProperty("matchLabels"), labels));
        return (pod, env);
    }

    /// <summary>The headless Service a StatefulSet names (its pods' DNS names), which selects its pods; its name.</summary>
    private static string AssertHeadlessServiceFor(List<JsonElement> objects, JsonElement set)
    {
        var name = set.GetProperty("spec").GetProperty("serviceName").GetString()!;
        var service = FindObject(objects, "Service", name).GetProperty("spec");
        Assert.Equal("None", service.GetProperty("clusterIP").GetString());
        Assert.True(Selects(service.GetProperty("selector"), PodLabels(set)), $"{name} selects the pods of its StatefulSet");
        return name;
    }

    /// <summary>Redis started with an append-only file, fsynced every second or on every write; the directory it keeps it in.</summary>
    private static string AssertAppendOnly(IReadOnlyList<string> arguments, string what)
    {
        string After(string option)
        {
            var at = arguments.ToList().LastIndexOf(option);
            Assert.True(at >= 0 && at + 1 < arguments.Count, $"{what} runs Redis without {option}: {string.Join(' ', arguments)}");
            return arguments[at + 1];
        }
        Assert.Equal("yes", After("--appendonly"));
        Assert.Contains(After("--appendfsync"), new[] { "everysec", "always" });
        return After("--dir");
    }

    /// <summary>A Sentinel config that resolves and announces host names and monitors one primary with a quorum its Sentinels can reach.</summary>
    private static (string Name, string Host, string Port) AssertSentinelConfig(string config, int sentinels)
    {
        var lines = config.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Contains("sentinel resolve-hostnames yes", lines);
        Assert.Contains("sentinel announce-hostnames yes", lines);
        var monitor = lines.Where(l => l.StartsWith("sentinel monitor ", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Single();
        Assert.Equal(6, monitor.Length);
        var quorum = int.Parse(monitor[5]);
        Assert.InRange(quorum, 2, sentinels);
        return (monitor[2], monitor[3], monitor[4]);
    }

    /// <summary>The <c>Kyros:Redis</c> section the silo binds, from the Secret's (or environment's) variables.</summary>
    private static RedisDurabilityOptions SiloRedisOptions(Dictionary<string, string> variables)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(variables.Where(v => v.Key.StartsWith("Kyros__Redis", StringComparison.Ordinal))
                .Select(v => KeyValuePair.Create(v.Key.Replace("__", ":"), (string?)v.Value)))
            .Build();
        var options = new RedisDurabilityOptions();
        configuration.GetSection(RedisDurabilityOptions.Section).Bind(options);
        Assert.Equal(variables["Kyros__Redis"], configuration[RedisDurabilityOptions.Section]);
        return options;
    }

    /// <summary>The named volume a compose service mounts at a directory (declared at the top level).</summary>
    private static string AssertVolumeAt(JsonElement service, string directory, HashSet<string> declared)
    {
        var volume = service.GetProperty("volumes").EnumerateArray().Select(v => v.GetString()!.Split(':'))
            .Single(v => v.Length >= 2 && v[1] == directory)[0];
        Assert.Contains(volume, declared);
        return volume;
    }

    /// <summary>kubectl kustomize of a folder under the repository; skips the test where kubectl is missing.</summary>
    private static async Task<List<JsonElement>> RenderAsync(params string[] folder)
    {
        var kubectl = await RunAsync("kubectl", ["kustomize", Path.Combine([RepositoryRoot(), .. folder])]);
        Assert.SkipWhen(kubectl is null, "kubectl is not installed: the manifests are not rendered here.");
        var (exitCode, output) = kubectl!.Value;
        Assert.True(exitCode == 0, output);
        return Documents(output);
    }

    private static JsonElement Compose()
    {
        using var reader = new StreamReader(Path.Combine(RepositoryRoot(), "deploy", "compose.yaml"));
        return Documents(reader.ReadToEnd()).Single();
    }

    private static JsonElement FindObject(List<JsonElement> objects, string kind, string name) =>
        objects.Single(o => o.GetProperty("kind").GetString() == kind && o.GetProperty("metadata").GetProperty("name").GetString() == name);

    /// <summary>A Secret's values, decoded: the silos' (by default) or another generated one, by its name before the hash.</summary>
    private static Dictionary<string, string> Secret(List<JsonElement> objects, string name = "kyros-perf-secrets") =>
        objects.Single(o => o.GetProperty("kind").GetString() == "Secret" && o.GetProperty("metadata").GetProperty("name").GetString()!.StartsWith(name + "-", StringComparison.Ordinal))
            .GetProperty("data").EnumerateObject()
            .ToDictionary(p => p.Name, p => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(p.Value.GetString()!)));

    private static JsonElement PodLabels(JsonElement workload) =>
        workload.GetProperty("spec").GetProperty("template").GetProperty("metadata").GetProperty("labels");

    private static IEnumerable<string> Claims(JsonElement set) =>
        set.GetProperty("spec").TryGetProperty("volumeClaimTemplates", out var claims)
            ? claims.EnumerateArray().Select(c => c.GetProperty("metadata").GetProperty("name").GetString()!)
            : [];

    /// <summary>Whether every label a selector names has its value on the pod.</summary>
    private static bool Selects(JsonElement selector, JsonElement labels) =>
        selector.EnumerateObject().Any() && selector.EnumerateObject().All(s => labels.TryGetProperty(s.Name, out var value) && value.GetString() == s.Value.GetString());

    private static IEnumerable<JsonElement> RedisContainers(JsonElement workload) =>
        workload.GetProperty("spec").TryGetProperty("template", out var template)
            ? template.GetProperty("spec").GetProperty("containers").EnumerateArray().Where(c => c.GetProperty("image").GetString()!.StartsWith("redis:", StringComparison.Ordinal))
            : [];

    /// <summary>A container's command and arguments, in order.</summary>
    private static List<string> Arguments(JsonElement container) =>
        new[] { "command", "args" }.SelectMany(k => container.TryGetProperty(k, out var list) ? list.EnumerateArray().Select(a => a.GetString()!) : []).ToList();

    /// <summary>A compose service's command as a list (a string command split on spaces).</summary>
    private static List<string> Command(JsonElement service) =>
        !service.TryGetProperty("command", out var command) ? []
        : command.ValueKind == JsonValueKind.Array ? command.EnumerateArray().Select(a => a.GetString()!).ToList()
        : command.GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();

    /// <summary>Compose's <c>${NAME:-default}</c> and <c>${NAME}</c>, from the given variables.</summary>
    private static string Interpolate(string value, IReadOnlyDictionary<string, string> variables) =>
        Regex.Replace(value, @"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}",
            m => variables.TryGetValue(m.Groups[1].Value, out var set) && set.Length > 0 ? set : m.Groups[2].Value);

    /// <summary>The directory of a POSIX path.</summary>
    private static string ParentOf(string path) => path[..path.LastIndexOf('/')];

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
