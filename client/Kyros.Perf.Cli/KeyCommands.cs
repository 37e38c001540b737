using System.CommandLine;
using System.Globalization;
using Kyros.Perf.Keys;
using Spectre.Console;

namespace Kyros.Perf.Cli;

/// <summary><c>kyros-perf keys create|list|show|update|revoke</c>: the cluster's run-time API keys and their use.</summary>
public static class KeyCommands
{
    public static Command Keys() => new("keys", "The cluster's run-time API keys: create, list, show, update, revoke")
    {
        Create(), List(), Show(), Update(), Revoke(),
    };

    private static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The key's name (shown and logged as who made a change)" };
        var scopes = new Option<string>("--scopes") { Description = "read, write and/or admin, comma-separated", HelpName = "a,b", Required = true };
        var models = new Option<string>("--models") { Description = "The only models it may call through the gateway, comma-separated (default: all)", HelpName = "a,b,c" };
        var budget = new Option<double?>("--budget-usd") { Description = "Spend allowed per period", HelpName = "usd", CustomParser = Cli.OptionalNumber<double> };
        var period = new Option<string>("--budget-period") { Description = "day, month (the default with a budget) or total", HelpName = "period" };
        var rpm = new Option<int?>("--rpm") { Description = "Requests a minute", HelpName = "n", CustomParser = Cli.OptionalNumber<int> };
        var tpm = new Option<long?>("--tpm") { Description = "Tokens a minute", HelpName = "n", CustomParser = Cli.OptionalNumber<long> };
        var expires = new Option<string>("--expires-at") { Description = "When it stops working, ISO 8601 (2027-01-31T00:00:00Z)", HelpName = "time" };
        return new Command("create", "Create a key and print its secret (shown this once)") { name, scopes, models, budget, period, rpm, tpm, expires }.SetClusterAction(parse =>
        {
            var settings = new ApiKeySettings
            {
                Name = parse.GetRequiredValue(name),
                Scopes = List(parse.GetValue(scopes)) ?? [],
                Models = List(parse.GetValue(models)),
                BudgetUsd = parse.GetValue(budget),
                BudgetPeriod = parse.GetValue(period),
                Rpm = parse.GetValue(rpm),
                Tpm = parse.GetValue(tpm),
                ExpiresAt = Time(parse.GetValue(expires)),
            };
            return async (client, _) =>
            {
                var created = await client.CreateKeyAsync(settings);
                AnsiConsole.MarkupLineInterpolated($"created key {created.Key.Id} ({created.Key.Settings.Name})");
                AnsiConsole.MarkupLineInterpolated($"secret (shown this once, store it now): {created.Secret}");
            };
        });
    }

    private static Command List() =>
        new Command("list", "Every run-time key (never a secret)").SetClusterAction(_ => async (client, _) =>
        {
            var keys = await client.ListKeysAsync();
            // A key revoked between the list and its usage is left out rather than failing the whole list.
            var usage = await Task.WhenAll(keys.Select(async k =>
            {
                try { return await client.GetKeyUsageAsync(k.Id); }
                catch (ApiKeyNotFoundException) { return null; }
            }));
            var table = new Table().AddColumns("id", "name", "scopes", "models", "budget", "spend", "requests", "tokens", "rpm", "tpm", "expires", "created by");
            for (var i = 0; i < keys.Count; i++)
            {
                var (k, u) = (keys[i], usage[i]);
                if (u is null) continue;
                var s = k.Settings;
                table.AddRow(k.Id, Markup.Escape(s.Name), string.Join(",", s.Scopes), Markup.Escape(s.Models is null ? "all" : string.Join(",", s.Models)),
                    s.BudgetUsd is { } b ? $"{Usd(b)}/{s.BudgetPeriod}" : "-", Usd(u.SpendUsd), $"{u.Requests}", $"{u.InputTokens + u.OutputTokens}",
                    Commands.F(s.Rpm), Commands.F(s.Tpm), s.ExpiresAt?.ToString("u") ?? "never", Markup.Escape(k.CreatedBy));
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"{keys.Count} keys");
        });

    private static Command Show()
    {
        var id = new Argument<string>("id") { Description = "The key's id" };
        return new Command("show", "One key's settings (never its secret) and its use this period, per model too") { id }.SetClusterAction(parse =>
        {
            var key = parse.GetRequiredValue(id);
            return async (client, _) =>
            {
                var k = await client.GetKeyAsync(key) ?? throw new ArgumentException($"id '{key}' is not in the key directory (revoked, or never made).", "id");
                var u = await client.GetKeyUsageAsync(k.Id);
                PrintKey(k);
                var usage = new Table().AddColumns("usage", "value");
                usage.AddRow("period", $"{u.Period} from {u.PeriodStart:u}{(u.PeriodEnd is { } end ? $" until {end:u}" : "")}")
                    .AddRow("spend_usd", u.BudgetUsd is { } budget ? $"{Usd(u.SpendUsd)} of {Usd(budget)}" : Usd(u.SpendUsd))
                    .AddRow("remaining_usd", u.RemainingUsd is { } left ? Usd(left) : "-").AddRow("reserved_usd", $"{Usd(u.ReservedUsd)} ({u.InFlight} in flight)")
                    .AddRow("requests", $"{u.Requests} ({u.RequestsLastMinute} in the last minute)")
                    .AddRow("tokens", $"{u.InputTokens} in, {u.OutputTokens} out ({u.TokensLastMinute} in the last minute)").AddRow("refused", $"{u.Refused}");
                AnsiConsole.Write(usage);
                if (u.Models.Count == 0) return;
                var models = new Table().AddColumns("model", "spend_usd", "requests", "input tokens", "output tokens");
                foreach (var m in u.Models.OrderByDescending(m => m.SpendUsd))
                    models.AddRow(Markup.Escape(m.Model), Usd(m.SpendUsd), $"{m.Requests}", $"{m.InputTokens}", $"{m.OutputTokens}");
                AnsiConsole.Write(models);
            };
        });
    }

    private static Command Update()
    {
        var id = new Argument<string>("id") { Description = "The key's id" };
        var name = new Option<string>("--name") { Description = "A new name", HelpName = "name" };
        var scopes = new Option<string>("--scopes") { Description = "read, write and/or admin, comma-separated", HelpName = "a,b" };
        var models = new Option<string>("--models") { Description = "The only models it may call, comma-separated", HelpName = "a,b,c" };
        var allModels = new Option<bool>("--all-models") { Description = "Every model again" };
        var budget = new Option<double?>("--budget-usd") { Description = "Spend allowed per period", HelpName = "usd", CustomParser = Cli.OptionalNumber<double> };
        var noBudget = new Option<bool>("--no-budget") { Description = "No budget (its period goes with it)" };
        var period = new Option<string>("--budget-period") { Description = "day, month or total", HelpName = "period" };
        var rpm = new Option<int?>("--rpm") { Description = "Requests a minute", HelpName = "n", CustomParser = Cli.OptionalNumber<int> };
        var noRpm = new Option<bool>("--no-rpm") { Description = "No requests-a-minute limit" };
        var tpm = new Option<long?>("--tpm") { Description = "Tokens a minute", HelpName = "n", CustomParser = Cli.OptionalNumber<long> };
        var noTpm = new Option<bool>("--no-tpm") { Description = "No tokens-a-minute limit" };
        var expires = new Option<string>("--expires-at") { Description = "When it stops working, ISO 8601", HelpName = "time" };
        var noExpiry = new Option<bool>("--no-expiry") { Description = "Never expires" };
        var revision = new Option<long?>("--if-revision")
        {
            Description = "Only if the key is still at this revision (what show printed)", HelpName = "revision", CustomParser = Cli.OptionalNumber<long>,
        };
        var command = new Command("update", "Change the settings given; the others stay")
        {
            id, name, scopes, models, allModels, budget, noBudget, period, rpm, noRpm, tpm, noTpm, expires, noExpiry, revision,
        };
        return command.SetClusterAction(parse =>
        {
            var key = parse.GetRequiredValue(id);
            // Each change as a function of the current settings, so that they apply to what is read just before the update.
            var changes = new List<Func<ApiKeySettings, ApiKeySettings>>();
            if (parse.GetValue(name) is { } newName) changes.Add(s => s with { Name = newName });
            if (parse.GetValue(scopes) is { } newScopes) changes.Add(s => s with { Scopes = List(newScopes) ?? [] });
            if (Either(parse, models, allModels, "models", out var newModels)) changes.Add(s => s with { Models = List(newModels) });
            if (Either(parse, budget, noBudget, "budget_usd", out var newBudget))
                // A budget cleared takes its period with it, as the HTTP API's merge patch does.
                changes.Add(s => s with { BudgetUsd = newBudget, BudgetPeriod = newBudget is null ? null : s.BudgetPeriod });
            if (parse.GetValue(period) is { } newPeriod) changes.Add(s => s with { BudgetPeriod = newPeriod });
            if (Either(parse, rpm, noRpm, "rpm", out var newRpm)) changes.Add(s => s with { Rpm = newRpm });
            if (Either(parse, tpm, noTpm, "tpm", out var newTpm)) changes.Add(s => s with { Tpm = newTpm });
            if (Either(parse, expires, noExpiry, "expires_at", out var newExpiry)) { var at = Time(newExpiry); changes.Add(s => s with { ExpiresAt = at }); }
            if (changes.Count == 0) throw new ArgumentException("Give at least one setting to change.", "body");
            var expected = parse.GetValue(revision);
            return async (client, _) =>
            {
                var current = await client.GetKeyAsync(key) ?? throw new ArgumentException($"id '{key}' is not in the key directory (revoked, or never made).", "id");
                var settings = changes.Aggregate(current.Settings, (s, change) => change(s));
                // The revision asked for, else the one just read: a change made in between is refused, never lost.
                var updated = await client.UpdateKeyAsync(current.Id, settings, expected ?? current.Revision);
                AnsiConsole.MarkupLineInterpolated($"updated key {updated.Id} ({updated.Settings.Name}) at revision {updated.Revision}");
                PrintKey(updated);
            };
        });
    }

    private static Command Revoke()
    {
        var id = new Argument<string>("id") { Description = "The key's id" };
        return new Command("revoke", "Revoke a key: every silo refuses it within 2 s") { id }.SetClusterAction(parse =>
        {
            var key = parse.GetRequiredValue(id);
            return async (client, _) =>
            {
                var revoked = await client.RevokeKeyAsync(key);
                AnsiConsole.MarkupLineInterpolated($"revoked key {revoked.Id} ({revoked.Settings.Name})");
            };
        });
    }

    private static void PrintKey(ApiKeyInfo k)
    {
        var s = k.Settings;
        var table = new Table().AddColumns("field", "value");
        table.AddRow("id", k.Id).AddRow("name", Markup.Escape(s.Name)).AddRow("scopes", string.Join(",", s.Scopes))
            .AddRow("models", Markup.Escape(s.Models is null ? "all" : string.Join(",", s.Models)))
            .AddRow("budget_usd", Commands.F(s.BudgetUsd)).AddRow("budget_period", s.BudgetPeriod ?? "-").AddRow("rpm", Commands.F(s.Rpm)).AddRow("tpm", Commands.F(s.Tpm))
            .AddRow("expires_at", s.ExpiresAt?.ToString("u") ?? "never").AddRow("created", $"{k.CreatedAt:u} by {Markup.Escape(k.CreatedBy)}")
            .AddRow("revision", $"{k.Revision}");
        AnsiConsole.Write(table);
    }

    /// <summary>A value option and its clearing flag: true when either was given (the value null when cleared); both given is bad input.</summary>
    private static bool Either<T>(ParseResult parse, Option<T> value, Option<bool> clear, string field, out T? result)
    {
        var given = parse.GetResult(value) is { Implicit: false };
        var cleared = parse.GetValue(clear);
        if (given && cleared) throw new ArgumentException($"{field}: give {value.Name} or {clear.Name}, not both.", field);
        result = given ? parse.GetValue(value) : default;
        return given || cleared;
    }

    private static DateTimeOffset? Time(string? text) => text is null
        ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.ToUniversalTime()
            : throw new ArgumentException($"expires_at '{text}' is not an ISO 8601 time such as 2027-01-31T00:00:00Z.", "expires_at");

    /// <summary>Dollars to the cent from a dollar up, else to six decimals: one call's spend is often a fraction of a cent.</summary>
    private static string Usd(double value) => "$" + value.ToString(value >= 1 ? "0.00" : "0.######", CultureInfo.InvariantCulture);

    private static string[]? List(string? text) => text?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
