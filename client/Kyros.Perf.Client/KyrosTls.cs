using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Kyros.Perf.Client;

/// <summary>
/// Orleans' transport with mutual TLS (configuration section <c>Kyros:Tls</c>, the same shape on silos and clients): this
/// process's certificate, and the CA that signs every silo's and every client's. A certificate that does not chain to
/// that CA is refused in both directions.
/// </summary>
public sealed class KyrosTlsOptions
{
    public const string Section = "Kyros:Tls";

    /// <summary>
    /// On or off. Unset, a silo decides from where it listens (on beyond loopback) and a client from whether it has a
    /// certificate (<see cref="CertificatePath"/>).
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>This process's certificate: PEM with its key at <see cref="KeyPath"/>, or a PFX (PKCS#12) holding both.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>; unset when that is a PFX.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PFX's password (from the environment or a secret; never logged), or the PEM key's when it is encrypted.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>PEM of the CA (or CAs, while one replaces another) that every remote certificate must chain to.</summary>
    public string? CaPath { get; set; }

    /// <summary>Errors naming the key, for TLS that is on; none when it is off.</summary>
    public IEnumerable<string> Validate(bool enabled)
    {
        if (!enabled) yield break;
        if (string.IsNullOrWhiteSpace(CertificatePath))
            yield return $"{Section}:CertificatePath is not set and Orleans' transport needs TLS: give this process's certificate " +
                         $"(PEM with {Section}:KeyPath, or a PFX), or set {Section}:Enabled=false to run unencrypted.";
        else if (!File.Exists(CertificatePath)) yield return $"{Section}:CertificatePath '{CertificatePath}' does not exist.";
        else if (string.IsNullOrWhiteSpace(KeyPath) && !KyrosTls.IsPfx(CertificatePath))
            yield return $"{Section}:KeyPath is not set: '{CertificatePath}' is PEM, and its key is in a file of its own (or give a PFX).";
        if (!string.IsNullOrWhiteSpace(KeyPath) && !File.Exists(KeyPath)) yield return $"{Section}:KeyPath '{KeyPath}' does not exist.";
        if (string.IsNullOrWhiteSpace(CaPath))
            yield return $"{Section}:CaPath is not set: remote certificates are trusted only when they chain to this CA.";
        else if (!File.Exists(CaPath)) yield return $"{Section}:CaPath '{CaPath}' does not exist.";
    }
}

/// <summary>The loaded certificate and CA of <see cref="KyrosTlsOptions"/>, and how Orleans' <see cref="TlsOptions"/> use them.</summary>
public sealed class KyrosTls
{
    private KyrosTls(X509Certificate2 certificate, X509Certificate2Collection authorities, string certificatePath, string caPath)
    {
        Certificate = certificate;
        Authorities = authorities;
        CertificatePath = certificatePath;
        CaPath = caPath;
    }

    public X509Certificate2 Certificate { get; }
    public X509Certificate2Collection Authorities { get; }
    public string CertificatePath { get; }
    public string CaPath { get; }

    internal static bool IsPfx(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".pfx" or ".p12";

    /// <summary>
    /// Loads the files of options that passed <see cref="KyrosTlsOptions.Validate"/>; null, with errors naming the key (the
    /// password never), when a file cannot be read.
    /// </summary>
    public static KyrosTls? Load(KyrosTlsOptions options, ICollection<string> failures)
    {
        var before = failures.Count;
        X509Certificate2? certificate = null;
        try
        {
            certificate = string.IsNullOrWhiteSpace(options.KeyPath)
                ? X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath!, options.CertificatePassword)
                : LoadPem(options.CertificatePath!, options.KeyPath, options.CertificatePassword);
            if (!certificate.HasPrivateKey) failures.Add($"{KyrosTlsOptions.Section}:CertificatePath '{options.CertificatePath}' holds no private key.");
        }
        catch (CryptographicException)
        {
            failures.Add(string.IsNullOrWhiteSpace(options.KeyPath)
                ? $"{KyrosTlsOptions.Section}:CertificatePath '{options.CertificatePath}' is not a PFX that {KyrosTlsOptions.Section}:CertificatePassword opens."
                : $"{KyrosTlsOptions.Section}:CertificatePath '{options.CertificatePath}' and {KyrosTlsOptions.Section}:KeyPath '{options.KeyPath}' are not a PEM certificate and its key.");
        }
        var authorities = ReadAuthorities(options.CaPath!);
        if (authorities.Count == 0) failures.Add($"{KyrosTlsOptions.Section}:CaPath '{options.CaPath}' holds no PEM certificate.");
        return failures.Count == before ? new KyrosTls(certificate!, authorities, options.CertificatePath!, options.CaPath!) : null;
    }

    private static X509Certificate2 LoadPem(string certificatePath, string keyPath, string? password)
    {
        using var pem = string.IsNullOrEmpty(password)
            ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, keyPath);
        // A PEM key is ephemeral; SslStream needs it in a key store on some platforms (Windows), so it goes through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// Mutual TLS: this process shows its certificate, requires the other side's, and accepts it only when it chains to
    /// the CA. The certificate's name is not checked: silos reach each other by IP address, and the CA alone decides who
    /// belongs to the cluster.
    /// </summary>
    public void Apply(TlsOptions tls)
    {
        tls.LocalCertificate = Certificate;
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.RemoteCertificateValidation = (certificate, presented, _) => ChainsToAuthority(certificate, presented);
    }

    /// <summary>True when <paramref name="certificate"/> chains to one of <see cref="Authorities"/> (the system's trust store is not consulted).</summary>
    public bool ChainsToAuthority(X509Certificate2 certificate, X509Chain? presented = null) => ChainsTo(Authorities, certificate, presented);

    /// <summary>The certificates of a PEM file of CAs; empty when it holds none.</summary>
    public static X509Certificate2Collection ReadAuthorities(string path)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(path);
        }
        catch (CryptographicException)
        {
        }
        return authorities;
    }

    /// <summary>True when <paramref name="certificate"/> chains to one of <paramref name="authorities"/> and to nothing else.</summary>
    public static bool ChainsTo(X509Certificate2Collection authorities, X509Certificate2 certificate, X509Chain? presented = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        // Our own CA publishes no revocation list: a leaked certificate is answered by a new CA (docs/security.md).
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Intermediates the other side sent along.
        if (presented is not null)
            foreach (var element in presented.ChainElements)
                if (!element.Certificate.Equals(certificate)) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        return chain.Build(certificate);
    }
}

/// <summary>
/// TLS to Redis (beside the connection string <c>Kyros:Redis</c>, as <c>Kyros:Redis:Tls</c> and <c>Kyros:Redis:CaPath</c>;
/// <c>ssl=true,sslHost=name</c> in the connection string itself does the same as <see cref="Tls"/>).
/// </summary>
public sealed class RedisTlsOptions
{
    public const string Section = "Kyros:Redis";

    /// <summary>Connect to Redis over TLS (StackExchange.Redis <c>ssl=true</c>); the server's name is checked against <c>sslHost</c> or the endpoint.</summary>
    public bool Tls { get; set; }

    /// <summary>PEM of the CA that signs Redis' certificate, when it is not one the system trusts; implies <see cref="Tls"/>.</summary>
    public string? CaPath { get; set; }

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(CaPath)) yield break;
        if (!File.Exists(CaPath)) yield return $"{Section}:CaPath '{CaPath}' does not exist.";
        else if (KyrosTls.ReadAuthorities(CaPath).Count == 0) yield return $"{Section}:CaPath '{CaPath}' holds no PEM certificate.";
    }

    /// <summary>TLS on <paramref name="redis"/> when asked for; with <see cref="CaPath"/>, Redis' certificate must chain to that CA and match its name.</summary>
    public void ApplyTo(StackExchange.Redis.ConfigurationOptions redis)
    {
        if (Tls) redis.Ssl = true;
        if (string.IsNullOrWhiteSpace(CaPath)) return;
        redis.Ssl = true;
        var authorities = KyrosTls.ReadAuthorities(CaPath);
        redis.CertificateValidation += (_, certificate, presented, errors) =>
            // The name is still checked; only "not trusted by the system" is answered by the CA instead.
            certificate is not null
            && (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) == System.Net.Security.SslPolicyErrors.None
            && KyrosTls.ChainsTo(authorities, certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), presented);
    }
}
