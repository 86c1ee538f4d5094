import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import TurnoCore

/// The SMTP client against `Tests/smtp/smtpd.py` (aiosmtpd), and its message rendering on its own.
@Suite("SMTP client")
struct SMTPClientTests {
    static let smtpd = ProcessInfo.processInfo.environment["TURNO_TEST_SMTPD"]
    static let needsSMTPD: Comment = "needs TURNO_TEST_SMTPD=Tests/smtp/smtpd.py and Python's aiosmtpd (pip install aiosmtpd)"
    static let from = "turno@example.test"
    static let subject = "È il tuo turno: sportello 3, biglietto A042 — venga pure, la aspettiamo"
    static let text = """
        Buongiorno Mario,
        è il suo turno allo sportello 3 (biglietto A042).
        .una riga che comincia con un punto
        ..e una con due
        .
        Prezzi in €, faccine 😀, e una riga lunga: \(String(repeating: "àbc ", count: 300))fine
        Grazie = a presto.

        """

    // MARK: With smtpd.py

    @Test(
        "STARTTLS, AUTH PLAIN and a non-ASCII message arrive intact",
        .enabled(if: smtpd != nil, needsSMTPD)
    )
    func startTLSWithAuth() async throws {
        try await Self.withServer(["--auth", "turno:s3cret"]) { server in
            let message = EmailMessage(
                to: "mario.rossi@example.test",
                subject: Self.subject,
                text: Self.text,
                messageID: "ticket-42.called@turno.example",
                language: "it"
            )
            try await server.client(username: "turno", password: "s3cret").send(message, nowMs: 1_700_000_000_000)

            let received = try server.received()
            try #require(received.count == 1)
            let (raw, envelope) = received[0]
            #expect(envelope.mail_from == Self.from)
            #expect(envelope.rcpt_tos == ["mario.rossi@example.test"])
            #expect(envelope.tls)
            #expect(envelope.auth == .init(user: "turno", mechanism: "PLAIN"))
            #expect(envelope.headers["Subject"] == Self.subject)
            #expect(envelope.headers["Message-ID"] == "<ticket-42.called@turno.example>")
            #expect(envelope.headers["Date"] == "Tue, 14 Nov 2023 22:13:20 +0000")
            #expect(envelope.headers["From"] == Self.from)
            #expect(envelope.headers["To"] == "mario.rossi@example.test")
            #expect(envelope.headers["Content-Language"] == "it")
            #expect(envelope.body == Self.text)
            #expect(String(decoding: raw, as: UTF8.self).contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"))
            Self.expectWellFormed(raw)
        }
    }

    @Test(
        "implicit TLS, and AUTH LOGIN when the server offers no PLAIN",
        .enabled(if: smtpd != nil, needsSMTPD)
    )
    func implicitTLSWithAuthLogin() async throws {
        try await Self.withServer(["--implicit-tls", "--auth", "turno:s3cret", "--auth-login-only"]) { server in
            let message = EmailMessage(to: "anna@example.test", subject: "Your turn", text: "Counter 2.", messageID: "<t-7@turno.example>")
            try await server.client(security: .tls, username: "turno", password: "s3cret").send(message, nowMs: 0)

            let received = try server.received()
            try #require(received.count == 1)
            let (raw, envelope) = received[0]
            #expect(envelope.tls)
            #expect(envelope.auth == .init(user: "turno", mechanism: "LOGIN"))
            #expect(envelope.headers["Subject"] == "Your turn")
            #expect(envelope.headers["Message-ID"] == "<t-7@turno.example>")
            #expect(envelope.headers["Date"] == "Thu, 01 Jan 1970 00:00:00 +0000")
            #expect(envelope.body == "Counter 2.\n")
            #expect(String(decoding: raw, as: UTF8.self).contains("Content-Transfer-Encoding: 7bit\r\n"))
            Self.expectWellFormed(raw)
        }
    }

    @Test(
        "a refused recipient is a permanent 550",
        .enabled(if: smtpd != nil, needsSMTPD)
    )
    func rejectedRecipient() async throws {
        try await Self.withServer(["--reject-rcpt", "nobody@example.test"]) { server in
            let message = EmailMessage(to: "nobody@example.test", subject: "Turno", text: "Hello", messageID: "m1@turno.example")
            let error = try await #require(throws: SMTPError.self) { try await server.client().send(message, nowMs: 0) }
            #expect(error.code == 550)
            #expect(error.stage == .recipient)
            #expect(error.isPermanent)
            #expect(error.text.contains("no such user"), "\(error)")
            #expect(try server.received().isEmpty)
        }
    }

    @Test(
        "without STARTTLS on offer .startTLS sends nothing, and .none sends in the clear",
        .enabled(if: smtpd != nil, needsSMTPD)
    )
    func noStartTLS() async throws {
        try await Self.withServer(["--no-tls", "--auth", "turno:s3cret"]) { server in
            let message = EmailMessage(to: "anna@example.test", subject: "Turno", text: "Hello", messageID: "m2@turno.example")
            let error = try await #require(throws: SMTPError.self) {
                try await server.client(username: "turno", password: "s3cret").send(message, nowMs: 0)
            }
            #expect(error.stage == .startTLS)
            #expect(error.code == nil)
            #expect(!error.isPermanent)
            #expect(error.text.contains("does not offer STARTTLS"), "\(error)")
            #expect(try server.received().isEmpty)

            // A loopback relay in the clear is what .none is for.
            try await server.client(security: .none, username: "turno", password: "s3cret").send(message, nowMs: 0)
            let received = try server.received()
            try #require(received.count == 1)
            #expect(!received[0].envelope.tls)
            #expect(received[0].envelope.auth == .init(user: "turno", mechanism: "PLAIN"))
        }
    }

    @Test(
        "a certificate that is not trusted, or is for another name, is refused as a transient TLS error",
        .enabled(if: smtpd != nil, needsSMTPD)
    )
    func untrustedCertificate() async throws {
        let message = EmailMessage(to: "anna@example.test", subject: "Turno", text: "Hello", messageID: "m3@turno.example")
        try await Self.withServer([]) { server in
            // Another self-signed certificate, then the system's roots alone.
            for trustRoots in [server.certificates.other, nil] {
                let error = try await #require(throws: SMTPError.self) {
                    try await server.client(trustRootsPath: trustRoots).send(message, nowMs: 0)
                }
                #expect(error.stage == .tls, "\(error)")
                #expect(error.text.contains("CERTIFICATE_VERIFY_FAILED"), "\(error)")
                #expect(!error.isPermanent)
            }
            #expect(try server.received().isEmpty)
        }
        // Trusted, but issued for mail.example.test rather than 127.0.0.1.
        try await Self.withServer([], certificate: \.wrongName) { server in
            let error = try await #require(throws: SMTPError.self) {
                try await server.client(trustRootsPath: server.certificates.wrongName.certificate).send(message, nowMs: 0)
            }
            #expect(error.stage == .tls, "\(error)")
            #expect(error.text.contains("failedToValidateHostname"), "\(error)")
            #expect(!error.isPermanent)
            #expect(try server.received().isEmpty)
        }
    }

    // MARK: Without a server

    @Test("a closed port is a transient connection error")
    func connectionRefused() async throws {
        let port = try await freeLoopbackPort()
        let client = SMTPClient(settings: SMTPSettings(host: "127.0.0.1", port: port, from: Self.from))
        let message = EmailMessage(to: "anna@example.test", subject: "Turno", text: "Hello", messageID: "m4@turno.example")
        let error = try await #require(throws: SMTPError.self) { try await client.send(message, nowMs: 0) }
        #expect(error.stage == .connect)
        #expect(error.code == nil)
        #expect(!error.isPermanent)
    }

    @Test("a server that never answers times out, transiently")
    func silentServer() async throws {
        // Accepts connections and says nothing.
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        defer { listener.close(promise: nil) }
        let settings = SMTPSettings(host: "127.0.0.1", port: listener.localAddress!.port!, from: Self.from, timeout: .milliseconds(300))
        let message = EmailMessage(to: "anna@example.test", subject: "Turno", text: "Hello", messageID: "m5@turno.example")
        let started = ContinuousClock.now
        let error = try await #require(throws: SMTPError.self) { try await SMTPClient(settings: settings).send(message, nowMs: 0) }
        #expect(error.stage == .greeting)
        #expect(error.text.contains("timed out"), "\(error)")
        #expect(!error.isPermanent)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("a server that breaks the protocol or refuses is reported at the stage it did so")
    func misbehavingServers() async throws {
        let ehlo = "250-scripted\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
        let cases: [(script: [String: String], stage: SMTPError.Stage, code: Int?, text: String)] = [
            // A reply to STARTTLS followed by more in the clear: what a man in the middle would inject.
            (["": "220 scripted\r\n", "EHLO": ehlo, "STARTTLS": "220 go ahead\r\n250 injected\r\n"], .startTLS, nil, "after its STARTTLS reply"),
            (["": "220 scripted\r\n", "EHLO": ehlo, "STARTTLS": "454 4.7.0 TLS not available\r\n"], .startTLS, 454, "TLS not available"),
            (["": "421-busy\r\n421 try later\r\n"], .greeting, 421, "busy try later"),
            (["": "hello there\r\n"], .greeting, nil, "not an SMTP reply"),
            (["": "220-scripted\r\n250 mixed\r\n"], .greeting, nil, "changes its code"),
        ]
        let message = EmailMessage(to: "anna@example.test", subject: "Turno", text: "Hello", messageID: "m6@turno.example")
        for (script, stage, code, text) in cases {
            let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ScriptedSMTPServer(script: script)) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            defer { listener.close(promise: nil) }
            let settings = SMTPSettings(host: "127.0.0.1", port: listener.localAddress!.port!, from: Self.from, timeout: .seconds(5))
            let error = try await #require(throws: SMTPError.self) { try await SMTPClient(settings: settings).send(message, nowMs: 0) }
            #expect(error.stage == stage, "\(error)")
            #expect(error.code == code, "\(error)")
            #expect(error.text.contains(text), "\(error)")
            #expect(!error.isPermanent)
        }
    }

    @Test("line breaks in the subject, recipient or Message-ID, and unusable settings, are refused before connecting")
    func headerInjection() async throws {
        // Nothing listens here: an attempt to connect would fail at .connect instead.
        let port = try await freeLoopbackPort()
        let client = SMTPClient(settings: SMTPSettings(host: "127.0.0.1", port: port, from: Self.from))
        let messages = [
            EmailMessage(to: "anna@example.test", subject: "Turno\r\nBcc: everyone@example.test", text: "Hello", messageID: "m@t"),
            EmailMessage(to: "anna@example.test", subject: "Turno\nX: y", text: "Hello", messageID: "m@t"),
            EmailMessage(to: "anna@example.test\r\nBcc: everyone@example.test", subject: "Turno", text: "Hello", messageID: "m@t"),
            EmailMessage(to: "anna@example.test", subject: "Turno", text: "Hello", messageID: "m@t\r\nBcc: everyone@example.test"),
        ]
        for message in messages {
            let error = try await #require(throws: SMTPError.self) { try await client.send(message, nowMs: 0) }
            #expect(error.stage == .message, "\(error)")
            #expect(error.isPermanent)
        }
        // Unusable settings are transient: the message goes once they are fixed.
        let valid = EmailMessage(to: "anna@example.test", subject: "Turno", text: "Hello", messageID: "m@t")
        let badSettings = [
            SMTPSettings(host: "127.0.0.1", port: port, from: "turno@example.test\r\nBcc: x@example.test"),
            SMTPSettings(host: "127.0.0.1", port: port, from: Self.from, trustRootsPath: "/nonexistent/roots.pem"),
            SMTPSettings(host: "127.0.0.1", port: port, from: Self.from, heloName: "turno\r\nRCPT TO:<x@example.test>"),
        ]
        for settings in badSettings {
            let error = try await #require(throws: SMTPError.self) { try await SMTPClient(settings: settings).send(valid, nowMs: 0) }
            #expect(error.stage == .settings, "\(error)")
            #expect(!error.isPermanent)
        }
    }

    @Test("the rendered message: folded encoded-word subject, quoted-printable body, CRLF, short lines")
    func rendering() throws {
        let message = EmailMessage(to: "anna@example.test", subject: Self.subject, text: Self.text, messageID: "m@t", language: "it")
        let rendered = try message.rendered(from: Self.from, nowMs: 1_700_000_000_000)
        let lines = rendered.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 76 && !$0.contains("\n") && !$0.contains("\r") })
        #expect(rendered.utf8.allSatisfy { $0 < 0x80 })
        #expect(lines.contains("Content-Transfer-Encoding: quoted-printable"))
        #expect(lines.contains("Date: Tue, 14 Nov 2023 22:13:20 +0000"))
        #expect(lines.contains("Message-ID: <m@t>"))
        #expect(lines.contains { $0.hasPrefix("Subject: =?UTF-8?B?") })
        #expect(lines.contains("=2Euna riga che comincia con un punto") || lines.contains(".una riga che comincia con un punto"))
        #expect(rendered.hasSuffix("\r\n"))
        #expect(EmailMessage.encodedSubject("Plain ASCII") == "Plain ASCII")
        #expect(EmailMessage.encodedSubject("È") == "=?UTF-8?B?w4g=?=")
        #expect(EmailMessage.quotedPrintable(Array("a = b ".utf8)) == "a =3D b=20")
        #expect(EmailMessage.rfc5322Date(nowMs: -1) == "Wed, 31 Dec 1969 23:59:59 +0000")
        #expect(EmailMessage.rfc5322Date(nowMs: 951_782_400_000) == "Tue, 29 Feb 2000 00:00:00 +0000")
    }

    @Test("dot-stuffing doubles a leading dot on every line and ends with CRLF.CRLF")
    func dotStuffing() {
        let buffer = SMTPClient.dotStuffed(".a\r\nb\r\n..c\r\n.\r\n")
        #expect(String(buffer: buffer) == "..a\r\nb\r\n...c\r\n..\r\n.\r\n")
    }

    // MARK: Support

    /// Answers each command with the reply its first word maps to ("" is the greeting), "500 unknown" otherwise.
    final class ScriptedSMTPServer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let script: [String: String]
        var pending = ""

        init(script: [String: String]) { self.script = script }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: script[""] ?? "")), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += String(buffer: unwrapInboundIn(data))
            while let end = pending.range(of: "\r\n") {
                let command = pending[..<end.lowerBound].split(separator: " ").first.map { $0.uppercased() } ?? ""
                pending.removeSubrange(..<end.upperBound)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: script[command] ?? "500 unknown\r\n")), promise: nil)
            }
        }
    }

    /// What smtpd.py writes beside each message.
    struct Envelope: Decodable {
        struct Auth: Decodable, Equatable {
            var user: String
            var mechanism: String
        }

        var mail_from: String
        var rcpt_tos: [String]
        var tls: Bool
        var auth: Auth?
        var headers: [String: String]
        var body: String?
    }

    /// Self-signed certificates, each its own trust root.
    struct Certificates {
        struct Pair {
            var certificate: String
            var key: String
        }

        /// For localhost and 127.0.0.1.
        var server: Pair
        /// For localhost and 127.0.0.1 too, but another key: trusting it does not trust `server`.
        var other: String
        /// For mail.example.test only.
        var wrongName: Pair

        init(in directory: URL) throws {
            func make(_ name: String, _ subjectAltName: String) throws -> Pair {
                let pair = Pair(
                    certificate: directory.appendingPathComponent("\(name).pem").path,
                    key: directory.appendingPathComponent("\(name)-key.pem").path
                )
                let arguments = [
                    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=\(subjectAltName)", "-keyout", pair.key, "-out", pair.certificate,
                ]
                try SMTPClientTests.run(arguments)
                return pair
            }
            server = try make("server", "DNS:localhost,IP:127.0.0.1")
            other = try make("other", "DNS:localhost,IP:127.0.0.1").certificate
            wrongName = try make("wrong-name", "DNS:mail.example.test")
        }
    }

    /// A running smtpd.py.
    struct Server {
        var port: Int
        var directory: URL
        var certificates: Certificates

        func client(
            security: SMTPSettings.Security = .startTLS,
            username: String? = nil,
            password: String? = nil,
            trustRootsPath: String?? = .none
        ) -> SMTPClient {
            // Not given: the server's own certificate; given as nil: the system's roots alone.
            let settings = SMTPSettings(
                host: "127.0.0.1",
                port: port,
                security: security,
                username: username,
                password: password,
                from: SMTPClientTests.from,
                trustRootsPath: trustRootsPath ?? certificates.server.certificate,
                timeout: .seconds(10)
            )
            return SMTPClient(settings: settings)
        }

        /// The messages received so far, in order: the raw bytes and the sidecar.
        func received() throws -> [(raw: [UInt8], envelope: Envelope)] {
            var messages: [(raw: [UInt8], envelope: Envelope)] = []
            var number = 1
            while let raw = FileManager.default.contents(atPath: directory.appendingPathComponent("\(number).eml").path) {
                let sidecar = try Data(contentsOf: directory.appendingPathComponent("\(number).json"))
                messages.append((Array(raw), try JSONDecoder().decode(Envelope.self, from: sidecar)))
                number += 1
            }
            return messages
        }
    }

    /// Runs smtpd.py with `arguments` until `body` returns, on a free port (retried, since another test may take it first).
    static func withServer<T>(
        _ arguments: [String],
        certificate: KeyPath<Certificates, Certificates.Pair> = \.server,
        _ body: (Server) async throws -> T
    ) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("turno-smtpd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try Certificates(in: directory)
        let mail = directory.appendingPathComponent("mail")
        let pair = certificates[keyPath: certificate]

        for attempt in 1...3 {
            let port = try await freeLoopbackPort()
            // Its output goes to a file the test reads, not a pipe with a reading handler: handlers on Foundation's
            // threads while other tests start processes crashed Process.run() on Linux.
            let outputPath = directory.appendingPathComponent("smtpd-\(attempt).out").path
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                ["python3", smtpd!, "--port", "\(port)", "--dir", mail.path, "--cert", pair.certificate, "--key", pair.key] + arguments
            process.standardOutput = output
            try launch(process)
            defer {
                process.terminate()
                process.waitUntilExit()
                try? output.close()
            }
            try await eventually {
                let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                return text.contains("ready") || !process.isRunning
            }
            guard process.isRunning else {
                // Most likely the port was taken between choosing and binding it.
                if attempt < 3 { continue }
                throw SMTPDFailed(status: process.terminationStatus)
            }
            return try await body(Server(port: port, directory: mail, certificates: certificates))
        }
        throw SMTPDFailed(status: -1)
    }

    struct SMTPDFailed: Error {
        var status: Int32
    }

    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try launch(process)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(arguments.joined(separator: " ")) failed")
    }

    /// CRLF line endings only, lines of at most 998 bytes, ASCII only.
    static func expectWellFormed(_ raw: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        var previous: UInt8 = 0
        var lineLength = 0
        for byte in raw {
            if byte == UInt8(ascii: "\n") {
                #expect(previous == UInt8(ascii: "\r"), "a bare LF", sourceLocation: sourceLocation)
                lineLength = 0
            } else {
                lineLength += 1
                #expect(lineLength <= 998, "a line longer than 998", sourceLocation: sourceLocation)
            }
            #expect(byte < 0x80, "a non-ASCII byte", sourceLocation: sourceLocation)
            previous = byte
        }
    }
}
