import Crypto
import Foundation
import Testing

@testable import TurnoCore

@Suite("WebPush")
struct WebPushTests {
    // RFC 8291 Appendix A, as published (base64url).
    enum RFC8291 {
        static let plaintext = "When I grow up, I want to be a watermelon"
        static let asPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
        static let asPublic = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        static let uaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
        static let uaPublic = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
        static let salt = "DGv6ra1nlYgDCS1FRnbzlw"
        static let authSecret = "BTBZMqHH6r4Tts7J_aSIgg"
        static let body =
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml"
            + "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT"
            + "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
    }

    static func bytes(_ base64url: String) throws -> Data {
        try #require(Data(base64URLEncoded: base64url))
    }

    @Test func encryptionMatchesRFC8291AppendixA() throws {
        let serverKey = try P256.KeyAgreement.PrivateKey(rawRepresentation: Self.bytes(RFC8291.asPrivate))
        #expect(serverKey.publicKey.x963Representation.base64URLEncodedString() == RFC8291.asPublic)
        let userKey = try P256.KeyAgreement.PublicKey(x963Representation: Self.bytes(RFC8291.uaPublic))

        let body = try WebPushEncryption.encrypt(
            Data(RFC8291.plaintext.utf8),
            userKey: userKey,
            authSecret: Self.bytes(RFC8291.authSecret),
            serverKey: serverKey,
            salt: Self.bytes(RFC8291.salt)
        )
        #expect(body.base64URLEncodedString() == RFC8291.body)

        // The independent decryption below must also read the RFC's own body.
        let userPrivate = try P256.KeyAgreement.PrivateKey(rawRepresentation: Self.bytes(RFC8291.uaPrivate))
        let opened = try decrypt(Self.bytes(RFC8291.body), userPrivateKey: userPrivate, authSecret: Self.bytes(RFC8291.authSecret))
        #expect(String(decoding: opened, as: UTF8.self) == RFC8291.plaintext)
    }

    @Test func roundTripAsTheBrowserDecrypts() throws {
        let browserKey = P256.KeyAgreement.PrivateKey()
        let authSecret = WebPushEncryption.randomSalt()
        let plaintext = Data(#"{"title":"Turno","body":"Your shift starts at 08:00 ✓"}"#.utf8)

        let body = try WebPushEncryption.encrypt(plaintext, userKey: browserKey.publicKey, authSecret: authSecret)
        #expect(body.count == 86 + plaintext.count + 1 + 16)
        #expect(try decrypt(body, userPrivateKey: browserKey, authSecret: authSecret) == plaintext)

        var wrongSecret = authSecret
        wrongSecret[wrongSecret.startIndex] ^= 0x01
        #expect(throws: (any Error).self) {
            try decrypt(body, userPrivateKey: browserKey, authSecret: wrongSecret)
        }
        #expect(throws: (any Error).self) {
            try decrypt(body, userPrivateKey: P256.KeyAgreement.PrivateKey(), authSecret: authSecret)
        }

        // Fresh salt and server key each time: the same message never encrypts the same way twice.
        let again = try WebPushEncryption.encrypt(plaintext, userKey: browserKey.publicKey, authSecret: authSecret)
        #expect(again != body)
    }

    @Test func plaintextLimitIsOneRecordOf4096() throws {
        let browserKey = P256.KeyAgreement.PrivateKey()
        let authSecret = WebPushEncryption.randomSalt()
        let largest = Data(repeating: 0x61, count: 3993)
        let body = try WebPushEncryption.encrypt(largest, userKey: browserKey.publicKey, authSecret: authSecret)
        #expect(body.count == 4096)
        #expect(try decrypt(body, userPrivateKey: browserKey, authSecret: authSecret) == largest)

        #expect(throws: WebPushError.self) {
            try WebPushEncryption.encrypt(Data(count: 3994), userKey: browserKey.publicKey, authSecret: authSecret)
        }
    }

    // MARK: VAPID

    struct Claims: Decodable, Equatable {
        let aud: String
        let exp: Int64
        let sub: String
    }

    @Test func vapidAuthorizationVerifies() throws {
        let key = VAPIDKey.generate()
        let nowMs: Int64 = 1_786_000_000_123
        let header = try key.authorization(
            for: "https://push.example.net:8443/wpush/v2/secret-path?x=1",
            subject: "mailto:admin@example.org",
            nowMs: nowMs
        )

        let (token, publicKey) = try parseVAPID(header)
        #expect(publicKey == key.publicKey)
        let rawPublic = try Self.bytes(publicKey)
        #expect(rawPublic.count == 65)
        #expect(rawPublic.first == 0x04)

        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 3)
        let jwtHeader = try #require(JSONSerialization.jsonObject(with: Self.bytes(parts[0])) as? [String: String])
        #expect(jwtHeader == ["typ": "JWT", "alg": "ES256"])
        let claims = try JSONDecoder().decode(Claims.self, from: Self.bytes(parts[1]))
        #expect(claims == Claims(aud: "https://push.example.net:8443", exp: 1_786_000_000 + 12 * 3600, sub: "mailto:admin@example.org"))

        let signature = try P256.Signing.ECDSASignature(rawRepresentation: Self.bytes(parts[2]))
        let verifier = try P256.Signing.PublicKey(x963Representation: rawPublic)
        #expect(verifier.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8)))
        #expect(!verifier.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])x".utf8)))
    }

    @Test func vapidAudienceIsTheOriginWithoutDefaultPort() throws {
        let key = VAPIDKey.generate()
        let cases: [(endpoint: String, audience: String)] = [
            ("https://fcm.googleapis.com/fcm/send/abc123", "https://fcm.googleapis.com"),
            ("https://updates.push.services.mozilla.com:443/wpush/v2/gAAA", "https://updates.push.services.mozilla.com"),
            ("http://127.0.0.1:9123/push/1", "http://127.0.0.1:9123"),
            ("http://[::1]:9123/push/1", "http://[::1]:9123"),
        ]
        for (endpoint, audience) in cases {
            let header = try key.authorization(for: endpoint, subject: "https://turno.example.org", nowMs: 0, validitySeconds: 60)
            let parts = try parseVAPID(header).token.split(separator: ".").map(String.init)
            let claims = try JSONDecoder().decode(Claims.self, from: Self.bytes(parts[1]))
            #expect(claims == Claims(aud: audience, exp: 60, sub: "https://turno.example.org"), "endpoint \(endpoint)")
        }
        #expect(throws: WebPushError.self) {
            try key.authorization(for: "not a url", subject: "mailto:a@b.c", nowMs: 0)
        }
        #expect(throws: WebPushError.self) {
            try key.authorization(for: "https://push.example.net/x", subject: "mailto:a@b.c", nowMs: 0, validitySeconds: 25 * 3600)
        }
    }

    @Test func vapidKeySurvivesStorage() throws {
        let key = VAPIDKey.generate()
        #expect(key.rawPrivateKey.count == 32)
        let restored = try VAPIDKey(rawPrivateKey: key.rawPrivateKey)
        #expect(restored.publicKey == key.publicKey)
        #expect(restored.rawPrivateKey == key.rawPrivateKey)
        #expect(throws: WebPushError.self) { try VAPIDKey(rawPrivateKey: Data(count: 31)) }
    }

    // MARK: Subscriptions

    static func subscription(endpoint: String = "https://push.example.net/wpush/abc", p256dh: String? = nil, auth: String? = nil) -> PushSubscription {
        PushSubscription(
            endpoint: endpoint,
            keys: .init(
                p256dh: p256dh ?? P256.KeyAgreement.PrivateKey().publicKey.x963Representation.base64URLEncodedString(),
                auth: auth ?? Data(repeating: 7, count: 16).base64URLEncodedString()
            )
        )
    }

    static func refusal(_ subscription: PushSubscription) -> String? {
        do {
            _ = try subscription.validated()
            return nil
        } catch {
            return error.description
        }
    }

    @Test func validSubscriptionsDecode() throws {
        let userKey = P256.KeyAgreement.PrivateKey().publicKey
        let json = """
            {"endpoint":"https://push.example.net/wpush/abc","expirationTime":null,\
            "keys":{"p256dh":"\(userKey.x963Representation.base64URLEncodedString())","auth":"\(RFC8291.authSecret)"}}
            """
        let subscription = try JSONDecoder().decode(PushSubscription.self, from: Data(json.utf8))
        let valid = try subscription.validated()
        #expect(valid.endpoint.absoluteString == "https://push.example.net/wpush/abc")
        #expect(valid.userKey.x963Representation == userKey.x963Representation)
        #expect(valid.authSecret == (try Self.bytes(RFC8291.authSecret)))

        // Loopback receivers may use plain http.
        for endpoint in ["http://127.0.0.1:9000/p", "http://localhost:9000/p", "http://[::1]:9000/p"] {
            #expect(Self.refusal(Self.subscription(endpoint: endpoint)) == nil, "\(endpoint)")
        }
    }

    @Test func invalidSubscriptionsAreRefusedEachWithItsOwnMessage() {
        let point = P256.KeyAgreement.PrivateKey().publicKey.x963Representation
        let refusals = [
            Self.refusal(Self.subscription(endpoint: "ftp://push.example.net/x")),
            Self.refusal(Self.subscription(endpoint: "http://push.example.net/x")),
            Self.refusal(Self.subscription(p256dh: "not base64url!")),
            Self.refusal(Self.subscription(p256dh: point.prefix(33).base64URLEncodedString())),
            Self.refusal(Self.subscription(auth: Data(count: 15).base64URLEncodedString())),
        ]
        #expect(refusals[0]?.contains("https") == true)
        #expect(refusals[0]?.contains("ftp") == true)
        #expect(refusals[1]?.contains("loopback") == true)
        #expect(refusals[2]?.contains("p256dh") == true)
        #expect(refusals[2]?.contains("base64url") == true)
        #expect(refusals[3]?.contains("65-byte") == true)
        #expect(refusals[3]?.contains("33 bytes") == true)
        #expect(refusals[4]?.contains("keys.auth") == true)
        #expect(refusals[4]?.contains("15") == true)
        #expect(Set(refusals.compactMap { $0 }).count == refusals.count)

        // 65 bytes, but not a point on the curve.
        var offCurve = point
        offCurve[offCurve.index(before: offCurve.endIndex)] ^= 0x01
        #expect(Self.refusal(Self.subscription(p256dh: offCurve.base64URLEncodedString()))?.contains("curve") == true)
        #expect(Self.refusal(Self.subscription(endpoint: "/relative/path")) != nil)
    }
}

/// Splits `vapid t=<JWT>, k=<key>`.
private func parseVAPID(_ header: String) throws -> (token: String, publicKey: String) {
    let prefix = "vapid t="
    try #require(header.hasPrefix(prefix))
    let parameters = header.dropFirst(prefix.count).components(separatedBy: ", k=")
    try #require(parameters.count == 2)
    return (parameters[0], parameters[1])
}

private struct DecryptionFailure: Error, CustomStringConvertible {
    let description: String
}

/// What a user agent does with a push body: RFC 8188 header parsing and RFC 8291 key derivation,
/// written apart from the sender's code so a derivation mistake cannot agree with itself.
private func decrypt(_ body: Data, userPrivateKey: P256.KeyAgreement.PrivateKey, authSecret: Data) throws -> Data {
    let bytes = [UInt8](body)
    guard bytes.count >= 21 else { throw DecryptionFailure(description: "header too short") }
    let salt = Data(bytes[0..<16])
    let recordSize = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
    let idLength = Int(bytes[20])
    guard bytes.count >= 21 + idLength + 17 else { throw DecryptionFailure(description: "body too short") }
    let serverPublic = Data(bytes[21..<(21 + idLength)])
    let record = Data(bytes[(21 + idLength)...])
    guard record.count <= recordSize else { throw DecryptionFailure(description: "more than one record") }

    let serverKey = try P256.KeyAgreement.PublicKey(x963Representation: serverPublic)
    let shared = try userPrivateKey.sharedSecretFromKeyAgreement(with: serverKey)
    let keyInfo = Data("WebPush: info\u{0}".utf8) + userPrivateKey.publicKey.x963Representation + serverPublic
    let ikm = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: authSecret, sharedInfo: keyInfo, outputByteCount: 32)
    let cek = HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: aes128gcm\u{0}".utf8), outputByteCount: 16)
    let nonce = HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: nonce\u{0}".utf8), outputByteCount: 12)

    let box = try AES.GCM.SealedBox(
        nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }),
        ciphertext: record.dropLast(16),
        tag: record.suffix(16)
    )
    var padded = [UInt8](try AES.GCM.open(box, using: cek))
    // Strip zero padding, then the last-record delimiter.
    while padded.last == 0 { padded.removeLast() }
    guard padded.last == 0x02 else { throw DecryptionFailure(description: "missing last-record delimiter") }
    padded.removeLast()
    return Data(padded)
}
