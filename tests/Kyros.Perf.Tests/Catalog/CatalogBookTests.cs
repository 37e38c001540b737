using Kyros.Perf.Catalog;

namespace Kyros.Perf.Tests.Catalog;

public sealed class CatalogBookTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static CatalogBook Seeded(out ModelCatalogState state, int history = 1_000)
    {
        state = new ModelCatalogState();
        var book = new CatalogBook(state, history, removalGrace: TimeSpan.FromMinutes(5));
        book.Seed([.. DefaultCatalog.Create()], "configuration", T0);
        return book;
    }

    private static ModelDescriptor Model(string id, double inputPrice = 0.001) => new() { Id = id, InputPricePer1k = inputPrice };

    [Fact]
    public void Each_change_raises_the_version_by_one_and_stamps_the_model_it_touched()
    {
        var book = Seeded(out _);
        Assert.Equal(1, book.Version);
        Assert.All(book.Snapshot.Models, e => Assert.Equal(1, e.Revision));

        var (added, change) = book.Add(Model("vllm-a"), "ops", T0.AddMinutes(1));
        Assert.Equal((2, 2, CatalogAction.Added, "ops"), (added.Revision, change.Version, change.Action, change.Actor));
        var (updated, update) = book.Replace(Model("vllm-a", 0.5), expectedRevision: 2, "ops", T0.AddMinutes(2));
        Assert.Equal(3, updated.Revision);
        Assert.Equal("input_price_per1k 0.001 -> 0.5", update.Detail);
        // Other models keep their revisions: two operators editing different models do not collide.
        Assert.Equal(1, book.Find("gpt-4")!.Revision);
        Assert.Equal(DefaultCatalog.Create().Count() + 1, book.Snapshot.Models.Count);
        Assert.Equal(3, book.Snapshot.Version);
    }

    [Fact]
    public void A_stale_revision_an_existing_id_and_an_unknown_id_are_refused_and_change_nothing()
    {
        var book = Seeded(out var state);
        book.Add(Model("vllm-a"), "ops", T0);
        book.Replace(Model("vllm-a", 0.2), null, "ops", T0);
        var before = Snapshot(book);

        Assert.Throws<CatalogRevisionException>(() => book.Replace(Model("vllm-a", 0.9), expectedRevision: 2, "late", T0));
        Assert.Throws<CatalogRevisionException>(() => book.Remove("vllm-a", expectedRevision: 2, "late", T0));
        Assert.Throws<CatalogModelExistsException>(() => book.Add(Model("vllm-a"), "ops", T0));
        Assert.Throws<CatalogModelNotFoundException>(() => book.Replace(Model("nope"), null, "ops", T0));
        Assert.Throws<CatalogModelNotFoundException>(() => book.Remove("nope", null, "ops", T0));

        Assert.Equal(before, Snapshot(book));
        Assert.Equal(3, state.Changes.Count);
    }

    [Theory]
    [InlineData("input_price_per1k", nameof(ModelDescriptor.InputPricePer1k), -1.0)]
    [InlineData("output_price_per1k", nameof(ModelDescriptor.OutputPricePer1k), double.NaN)]
    [InlineData("quality_prior", nameof(ModelDescriptor.QualityPrior), 1.5)]
    [InlineData("latency_prior", nameof(ModelDescriptor.LatencyPrior), 0.0)]
    [InlineData("timeout_seconds", nameof(ModelDescriptor.TimeoutSeconds), -2.0)]
    [InlineData("context_window", nameof(ModelDescriptor.ContextWindow), 0.0)]
    [InlineData("max_output_tokens", nameof(ModelDescriptor.MaxOutputTokens), 0.0)]
    [InlineData("requests_per_minute", nameof(ModelDescriptor.RequestsPerMinute), 0.0)]
    [InlineData("tokens_per_minute", nameof(ModelDescriptor.TokensPerMinute), -5.0)]
    public void A_bad_field_is_refused_naming_it_and_nothing_changes(string field, string property, double value)
    {
        var book = Seeded(out _);
        var model = Model("vllm-a");
        var p = typeof(ModelDescriptor).GetProperty(property)!;
        var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
        p.SetValue(model, Convert.ChangeType(value, type));
        var before = Snapshot(book);

        var error = Assert.Throws<ArgumentException>(() => book.Add(model, "ops", T0));
        Assert.Equal(field, error.ParamName);
        Assert.Equal(before, Snapshot(book));
    }

    [Fact]
    public void Nested_fields_ids_providers_endpoints_with_credentials_and_reserved_ids_are_refused_by_name()
    {
        Assert.Equal("capabilities.reasoning", Refused(m => m.Capabilities.Reasoning = 1.2));
        Assert.Equal("simulation.spread", Refused(m => m.Simulation.Spread = 9));
        Assert.Equal("provider", Refused(m => m.Provider = "carrier-pigeon"));
        Assert.Equal("endpoint", Refused(m => (m.Provider, m.Endpoint) = ("openai-compatible", "http://user:secret@10.0.0.1/v1")));
        Assert.Equal("endpoint", Refused(m => (m.Provider, m.Endpoint) = ("openai-compatible", "http://10.0.0.1/v1?key=secret")));
        Assert.Equal("endpoint", Refused(m => (m.Provider, m.Endpoint) = ("openai-compatible", null)));
        Assert.Equal("api_key_variable", Refused(m => m.ApiKeyVariable = "sk-live key"));
        Assert.Equal("tokenizer", Refused(m => m.Tokenizer = "p50k"));
        Assert.Equal("hosts", Refused(m => m.Hosts = ["gpu box"]));
        Assert.Equal("id", Refused(m => m.Id = ""));
        Assert.Equal("id", Refused(m => m.Id = new string('m', 129)));
        Assert.Equal("id", Refused(m => m.Id = "changes"));
    }

    private static string? Refused(Action<ModelDescriptor> spoil)
    {
        var model = Model("vllm-a");
        spoil(model);
        return Assert.Throws<ArgumentException>(() => ModelDescriptorValidator.Validate(model)).ParamName;
    }

    [Fact]
    public void A_removed_model_is_kept_as_removed_until_purged_and_comes_back_whole_when_added_again()
    {
        var book = Seeded(out _);
        var change = book.Remove("claude", null, "ops", T0);
        Assert.Equal(CatalogAction.Removed, change.Action);
        Assert.Null(book.Find("claude"));
        var removed = Assert.Single(book.Snapshot.Removed);
        Assert.Equal(("claude", T0, false), (removed.Id, removed.RemovedAt, removed.Purged));

        // Due once the last record it took (at the end of its 5-minute grace) is out of every window.
        Assert.Equal(T0.AddMinutes(5), removed.RecordsUntil);
        var live = TimeSpan.FromHours(25);
        Assert.Empty(book.DueForPurge(T0.AddMinutes(5) + live - TimeSpan.FromSeconds(1), live));
        Assert.Equal(["claude"], book.DueForPurge(T0.AddMinutes(5) + live, live));
        Assert.Equal(CatalogAction.Purged, book.MarkPurged("claude", T0 + live)!.Action);
        Assert.Empty(book.DueForPurge(T0 + live, live));
        Assert.Null(book.MarkPurged("claude", T0 + live));
        Assert.True(Assert.Single(book.Snapshot.Removed).Purged);

        book.Add(Model("claude"), "ops", T0 + live);
        Assert.Empty(book.Snapshot.Removed);
        Assert.NotNull(book.Find("claude"));
    }

    [Fact]
    public void Seeding_again_removes_the_models_the_configuration_lacks_and_keeps_a_bounded_history()
    {
        var book = Seeded(out var state, history: 10);
        for (var i = 0; i < 20; i++) book.Add(Model($"extra-{i}"), "ops", T0);
        var seed = book.Seed([Model("only-one")], "http 127.0.0.1", T0.AddHours(1));
        Assert.Equal(CatalogAction.Seeded, seed.Action);
        Assert.Equal(["only-one"], book.Snapshot.Models.Select(e => e.Model.Id));
        Assert.Equal(DefaultCatalog.Create().Count() + 20, book.Snapshot.Removed.Count);
        Assert.Equal(10, state.Changes.Count);
        Assert.Equal(seed, state.Changes[^1]);

        // A seed with a bad model changes nothing.
        var before = Snapshot(book);
        var error = Assert.Throws<ArgumentException>(() => book.Seed([Model("a"), Model("a")], "ops", T0));
        Assert.Equal("models[1].id", error.ParamName);
        Assert.Equal(before, Snapshot(book));
    }

    private static string Snapshot(CatalogBook book) => System.Text.Json.JsonSerializer.Serialize(book.Snapshot, Kyros.Perf.Common.KyrosJson.Options);

    [Fact]
    public void A_catalog_the_store_lost_comes_back_from_a_silos_copy_with_its_models_revisions_and_removals_not_the_configurations()
    {
        var book = Seeded(out _);
        book.Add(Model("kept-model"), "ops", T0.AddMinutes(1));
        book.Remove("claude", expectedRevision: null, "ops", T0.AddMinutes(2));
        // What every silo holds after following the grain.
        var copy = new ModelCatalog(Microsoft.Extensions.Options.Options.Create(new ModelCatalogOptions()));
        Assert.True(copy.Apply(book.Snapshot));

        // The store is flushed: the grain finds nothing and takes the silo's copy back, one version on.
        var restored = new CatalogBook(new ModelCatalogState(), 1_000, TimeSpan.FromMinutes(5));
        Assert.False(restored.IsSeeded);
        var change = restored.Restore(copy.Current.ToSnapshot(), "silo copy", T0.AddMinutes(3));
        Assert.Equal((CatalogAction.Restored, book.Version + 1), (change.Action, restored.Version));
        Assert.Equal(book.Snapshot.Models.Select(e => (e.Model.Id, e.Revision)), restored.Snapshot.Models.Select(e => (e.Model.Id, e.Revision)));
        Assert.Equal("claude", Assert.Single(restored.Snapshot.Removed).Id);
        Assert.NotNull(restored.Find("kept-model"));
        // Every silo takes it (a newer version), and a stored catalog is never overwritten by a copy.
        Assert.True(copy.Apply(restored.Snapshot));
        Assert.Throws<InvalidOperationException>(() => restored.Restore(copy.Current.ToSnapshot(), "silo copy", T0.AddMinutes(4)));
    }
}
