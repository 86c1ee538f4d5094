import Crypto
import Foundation

/// A Web Push failure on the sending side: an unusable VAPID key or endpoint, or a payload
/// that cannot be encrypted as one push message.
public struct WebPushError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

// MARK: - VAPID (RFC 8292)

/// The server's application server key (RFC 8292): a P-256 key pair that signs the VAPID JWT
/// sent with every push, and whose public half the browser receives as `applicationServerKey`.
public struct VAPIDKey: Sendable {
    private let signingKey: P256.Signing.PrivateKey

    private init(signingKey: P256.Signing.PrivateKey) {
        self.signingKey = signingKey
    }

    /// A fresh random key pair.
    public static func generate() -> VAPIDKey {
        VAPIDKey(signingKey: P256.Signing.PrivateKey())
    }

    /// Restores a key from its 32-byte private scalar, as stored in the database.
    public init(rawPrivateKey: Data) throws {
        guard rawPrivateKey.count == 32 else {
            throw WebPushError("A VAPID private key is 32 bytes, got \(rawPrivateKey.count).")
        }
        do {
            signingKey = try P256.Signing.PrivateKey(rawRepresentation: rawPrivateKey)
        } catch {
            throw WebPushError("The VAPID private key is not a valid P-256 scalar.")
        }
    }

    /// The 32-byte private scalar, to store in the database.
    public var rawPrivateKey: Data {
        signingKey.rawRepresentation
    }

    /// The uncompressed 65-byte public key in unpadded base64url: the browser's `applicationServerKey`
    /// and the `k=` parameter of the `Authorization` header.
    public var publicKey: String {
        signingKey.publicKey.x963Representation.base64URLEncodedString()
    }

    /// The `Authorization` header value for a push to `endpoint`: `vapid t=<JWT>, k=<publicKey>`.
    ///
    /// The JWT is ES256 with `aud` = the endpoint's origin, `exp` = now + `validitySeconds`, and
    /// `sub` = `subject` (a `mailto:` or `https:` contact for the push service's operator).
    /// RFC 8292 §2 caps `exp` at 24 hours ahead, so a longer validity is refused rather than
    /// left for the push service to reject.
    public func authorization(
        for endpoint: String,
        subject: String,
        nowMs: Int64,
        validitySeconds: Int64 = 12 * 3600
    ) throws -> String {
        guard validitySeconds > 0, validitySeconds <= 24 * 3600 else {
            throw WebPushError("A VAPID token must be valid for between 1 second and 24 hours, not \(validitySeconds) seconds.")
        }
        guard let url = URL(string: endpoint), let audience = WebPushOrigin.of(url) else {
            throw WebPushError("The push endpoint \"\(endpoint)\" is not an absolute http(s) URL.")
        }
        let claims = Claims(aud: audience, exp: nowMs / 1000 + validitySeconds, sub: subject)
        let encoder = JSONEncoder()
        // Fixed key order keeps tokens reproducible; unescaped slashes keep `https://` readable.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let header = Data(#"{"typ":"JWT","alg":"ES256"}"#.utf8).base64URLEncodedString()
        let payload = try encoder.encode(claims).base64URLEncodedString()
        let signingInput = header + "." + payload
        // ES256 in a JWS is the raw r || s (64 bytes), not DER (RFC 7518 §3.4).
        let signature = try signingKey.signature(for: Data(signingInput.utf8)).rawRepresentation
        return "vapid t=\(signingInput).\(signature.base64URLEncodedString()), k=\(publicKey)"
    }

    private struct Claims: Encodable {
        let aud: String
        let exp: Int64
        let sub: String
    }
}

/// The `scheme://host[:port]` origin of a URL, the VAPID audience.
enum WebPushOrigin {
    static func of(_ url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = WebPushHost.of(url), !host.isEmpty
        else { return nil }
        // IPv6 literals need their brackets back in an origin.
        let hostPart = host.contains(":") ? "[\(host)]" : host
        // Origins omit the scheme's default port (RFC 6454 §6.2).
        let defaultPort = scheme == "https" ? 443 : 80
        if let port = url.port, port != defaultPort {
            return "\(scheme)://\(hostPart):\(port)"
        }
        return "\(scheme)://\(hostPart)"
    }
}

/// A URL's host, lowercased and without IPv6 brackets, whichever way Foundation reports it.
enum WebPushHost {
    static func of(_ url: URL) -> String? {
        guard var host = url.host(percentEncoded: false)?.lowercased() else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        return host
    }
}

// MARK: - Subscriptions

/// Why a browser's push subscription was refused; the message is meant for the API client
/// (it becomes the detail of an HTTP 422).
public struct PushSubscriptionError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A browser push subscription, shaped like `PushSubscription.toJSON()`: the push service endpoint
/// and the user agent's keys in unpadded base64url.
public struct PushSubscription: Codable, Sendable, Equatable {
    /// The user agent's message-encryption keys (RFC 8291).
    public struct Keys: Codable, Sendable, Equatable {
        /// The uncompressed P-256 ECDH public key, 65 bytes.
        public var p256dh: String
        /// The 16-byte authentication secret.
        public var auth: String

        public init(p256dh: String, auth: String) {
            self.p256dh = p256dh
            self.auth = auth
        }
    }

    public var endpoint: String
    public var keys: Keys
    /// When the push service will end the subscription (milliseconds since 1970), as some browsers give it; kept
    /// only so that their `toJSON()` is accepted as it is.
    public var expirationTime: Double?

    public init(endpoint: String, keys: Keys, expirationTime: Double? = nil) {
        self.endpoint = endpoint
        self.keys = keys
        self.expirationTime = expirationTime
    }

    /// Checks the subscription and decodes what sending needs: the endpoint URL, the user agent's
    /// public key, and its 16-byte auth secret.
    public func validated() throws(PushSubscriptionError) -> (endpoint: URL, userKey: P256.KeyAgreement.PublicKey, authSecret: Data) {
        guard let url = URL(string: endpoint), let rawScheme = url.scheme else {
            throw PushSubscriptionError("endpoint is not an absolute URL.")
        }
        let scheme = rawScheme.lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw PushSubscriptionError("endpoint must be an https URL, not \(rawScheme).")
        }
        guard let host = WebPushHost.of(url), !host.isEmpty else {
            throw PushSubscriptionError("endpoint has no host.")
        }
        // Real push services are always https; plain http is allowed only to loopback so tests
        // and local development can use a receiver on this machine.
        if scheme == "http", !["127.0.0.1", "localhost", "::1"].contains(host) {
            throw PushSubscriptionError("endpoint must use https; plain http is only accepted for a loopback host.")
        }

        guard let point = Data(base64URLEncoded: keys.p256dh) else {
            throw PushSubscriptionError("keys.p256dh is not valid base64url.")
        }
        guard point.count == 65, point.first == 0x04 else {
            throw PushSubscriptionError("keys.p256dh must be a 65-byte uncompressed P-256 public key, got \(point.count) bytes.")
        }
        let userKey: P256.KeyAgreement.PublicKey
        do {
            userKey = try P256.KeyAgreement.PublicKey(x963Representation: point)
        } catch {
            throw PushSubscriptionError("keys.p256dh is not a point on the P-256 curve.")
        }

        guard let authSecret = Data(base64URLEncoded: keys.auth) else {
            throw PushSubscriptionError("keys.auth is not valid base64url.")
        }
        guard authSecret.count == 16 else {
            throw PushSubscriptionError("keys.auth must be 16 bytes, got \(authSecret.count).")
        }
        return (url, userKey, authSecret)
    }
}

// MARK: - Message encryption (RFC 8291 with RFC 8188 aes128gcm)

/// Web Push message encryption: RFC 8291 key derivation with the RFC 8188 `aes128gcm` content
/// coding, as one record.
public enum WebPushEncryption {
    /// The record size written in the header.
    public static let recordSize = 4096
    /// The largest plaintext that fits one push message: 4096 minus the 86-byte header, the 16-byte
    /// tag and the padding delimiter (RFC 8291 §4).
    public static let maxPlaintextSize = 3993

    /// Encrypts `plaintext` for the user agent whose subscription gave `userKey` and `authSecret`,
    /// returning the request body (header, then the single record).
    ///
    /// `serverKey` and `salt` must be fresh for every message; they are parameters only so tests
    /// can reproduce RFC 8291's example.
    public static func encrypt(
        _ plaintext: Data,
        userKey: P256.KeyAgreement.PublicKey,
        authSecret: Data,
        serverKey: P256.KeyAgreement.PrivateKey = .init(),
        salt: Data = WebPushEncryption.randomSalt()
    ) throws -> Data {
        guard plaintext.count <= maxPlaintextSize else {
            throw WebPushError("A push payload holds at most \(maxPlaintextSize) bytes, got \(plaintext.count).")
        }
        guard authSecret.count == 16 else {
            throw WebPushError("The auth secret must be 16 bytes, got \(authSecret.count).")
        }
        guard salt.count == 16 else {
            throw WebPushError("The salt must be 16 bytes, got \(salt.count).")
        }

        let userPublic = userKey.x963Representation
        let serverPublic = serverKey.publicKey.x963Representation
        let ecdhSecret = try serverKey.sharedSecretFromKeyAgreement(with: userKey)

        // RFC 8291 §3.3: mix the auth secret and both public keys into the input keying material.
        let prkKey = HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: ecdhSecret), salt: authSecret)
        var keyInfo = Data("WebPush: info".utf8)
        keyInfo.append(0)
        keyInfo.append(userPublic)
        keyInfo.append(serverPublic)
        let ikm = HKDF<SHA256>.expand(pseudoRandomKey: prkKey, info: keyInfo, outputByteCount: 32)

        // RFC 8188 §2.2/2.3: content encryption key and nonce from the salt.
        let prk = HKDF<SHA256>.extract(inputKeyMaterial: ikm, salt: salt)
        let cek = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: aes128gcm\0".utf8), outputByteCount: 16)
        let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: nonce\0".utf8), outputByteCount: 12)

        // One record, so it is also the last: the delimiter is 0x02 and no further padding is added.
        var record = plaintext
        record.append(0x02)
        let sealed = try AES.GCM.seal(record, using: cek, nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }))

        var body = Data(capacity: 86 + sealed.ciphertext.count + sealed.tag.count)
        body.append(salt)
        withUnsafeBytes(of: UInt32(recordSize).bigEndian) { body.append(contentsOf: $0) }
        body.append(UInt8(serverPublic.count))
        body.append(serverPublic)
        body.append(sealed.ciphertext)
        body.append(sealed.tag)
        return body
    }

    /// 16 random bytes, a fresh salt for each message.
    public static func randomSalt() -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}

// MARK: - base64url (RFC 4648 §5), unpadded as Web Push uses it

extension Data {
    /// Unpadded base64url.
    func base64URLEncodedString() -> String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes base64url, with or without padding; nil for anything else.
    init?(base64URLEncoded string: String) {
        var unpadded = Substring(string)
        while unpadded.last == "=" { unpadded = unpadded.dropLast() }
        // Standard-alphabet characters are refused so a subscription has one spelling only.
        guard !unpadded.contains(where: { $0 == "+" || $0 == "/" || $0 == "=" }), unpadded.count % 4 != 1 else { return nil }
        var base64 = String(unpadded).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
