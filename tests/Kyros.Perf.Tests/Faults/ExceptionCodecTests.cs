using Kyros.Perf.Benchmarking;
using Kyros.Perf.Common;
using Kyros.Perf.Gateway;
using Kyros.Perf.Routing;
using Kyros.Perf.Tuning;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using StackExchange.Redis;

namespace Kyros.Perf.Tests.Faults;

/// <summary>What a grain throws must cross the wire as itself, or the caller gets a CodecNotFoundException instead of an answer.</summary>
public sealed class ExceptionCodecTests
{
    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(b => b.AddAssembly(typeof(KyrosUnavailableException).Assembly))
        .BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public void Every_exception_type_of_the_contracts_has_a_codec()
    {
        var exceptions = typeof(KyrosUnavailableException).Assembly.GetTypes().Where(t => typeof(Exception).IsAssignableFrom(t)).ToArray();
        Assert.NotEmpty(exceptions);
        Assert.All(exceptions, t => Assert.True(t.IsDefined(typeof(GenerateSerializerAttribute), false), $"{t.Name} has no [GenerateSerializer]"));
    }

    public static TheoryData<Exception> Thrown() =>
    [
        new KyrosUnavailableException("Redis did not answer: timeout"),
        new NoCandidateException("No candidate passes the filters: gpt-4: rate limit.", [new RejectedCandidate("gpt-4", "rate limit")], temporary: true),
        new GenerationFailedException("gpt-4 failed", 502, [new Attempt("gpt-4", false, "server_error", "boom", 0.5, null)]),
        new BenchmarkNotFoundException("no run bench-1"),
        new RecommendationNotFoundException("no recommendation rec-1"),
        new RecommendationStateException("rec-1 is applied"),
        new ArgumentException("window must be positive.", "window"),
        new TimeoutException("late"),
        new InvalidOperationException("bad state"),
    ];

    [Theory]
    [MemberData(nameof(Thrown))]
    public void Each_exception_a_grain_throws_crosses_the_wire_as_itself(Exception thrown)
    {
        var crossed = Serializer.Deserialize<Exception>(Serializer.SerializeToArray<Exception>(thrown));
        Assert.IsType(thrown.GetType(), crossed);
        Assert.Equal(thrown.Message, crossed.Message);
        if (thrown is NoCandidateException none)
        {
            Assert.Equal(none.Rejected, ((NoCandidateException)crossed).Rejected);
            Assert.Equal(none.Temporary, ((NoCandidateException)crossed).Temporary);
        }
        if (thrown is GenerationFailedException failed) Assert.Equal(failed.Status, ((GenerationFailedException)crossed).Status);
    }

    [Fact]
    public void A_stores_own_exceptions_are_recognised_and_turned_into_a_fault_that_passes()
    {
        Assert.Equal("Redis", StoreFaultFilter.StoreFault(new RedisTimeoutException("Timeout awaiting response", CommandStatus.Sent)));
        Assert.Equal("Redis", StoreFaultFilter.StoreFault(new RedisConnectionException(ConnectionFailureType.SocketFailure, "gone")));
        Assert.Equal("Redis", StoreFaultFilter.StoreFault(new Exception("storage failed", new RedisConnectionException(ConnectionFailureType.UnableToConnect, "no"))));
        Assert.Equal("SQLite (busy or locked)", StoreFaultFilter.StoreFault(new SqliteException("database is locked", 5)));
        Assert.Null(StoreFaultFilter.StoreFault(new SqliteException("no such table", 1)));
        Assert.Null(StoreFaultFilter.StoreFault(new ArgumentException("bad", "field")));
        // The kinds of fault that pass, as HTTP and the SDK see them.
        Assert.True(TransientFaults.IsTransient(new KyrosUnavailableException("x")));
        Assert.True(TransientFaults.IsTransient(new TimeoutException()));
        Assert.True(TransientFaults.IsTransient(new Orleans.Runtime.SiloUnavailableException()));
        Assert.False(TransientFaults.IsTransient(new ArgumentException("bad", "field")));
        Assert.False(TransientFaults.IsTransient(new InvalidOperationException("a bug")));
    }
}
