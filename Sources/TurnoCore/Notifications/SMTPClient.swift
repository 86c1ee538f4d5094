import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// How to reach the mail relay that sends Turno's email.
public struct SMTPSettings: Sendable, Equatable, CustomStringConvertible {
    /// How the connection to the relay is protected.
    public enum Security: String, Sendable, Equatable, CaseIterable {
        /// A plain connection upgraded with STARTTLS (RFC 3207), usually on port 587.
        /// The client refuses to send when the server does not offer STARTTLS, so that a man in the middle cannot strip it.
        case startTLS
        /// TLS from the first byte ("implicit TLS", RFC 8314), usually on port 465.
        case tls
        /// No encryption at all, credentials included: only for a relay on the loopback interface
        /// (a local Postfix, say) or on a private link you trust, never across the Internet.
        case none

        /// The port a relay usually listens on for this kind of connection.
        public var defaultPort: Int {
            switch self {
            case .startTLS: 587
            case .tls: 465
            case .none: 25
            }
        }
    }

    /// The relay's host name or IP address; a host name is also the name its certificate must carry.
    public var host: String
    public var port: Int
    public var security: Security
    /// With `password`, authenticates with AUTH PLAIN, or AUTH LOGIN when that is all the server offers; only over TLS unless `security` is `.none`.
    public var username: String?
    public var password: String?
    /// The envelope sender and the `From` header: a bare address.
    public var from: String
    /// A PEM file of CA certificates trusted in addition to the system's, for a relay with a private CA or a self-signed certificate.
    public var trustRootsPath: String?
    /// The name the client gives in EHLO.
    public var heloName: String
    /// The longest a whole conversation may take, connecting included.
    public var timeout: Duration

    public init(
        host: String,
        port: Int? = nil,
        security: Security = .startTLS,
        username: String? = nil,
        password: String? = nil,
        from: String,
        trustRootsPath: String? = nil,
        heloName: String = "turno",
        timeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port ?? security.defaultPort
        self.security = security
        self.username = username
        self.password = password
        self.from = from
        self.trustRootsPath = trustRootsPath
        self.heloName = heloName
        self.timeout = timeout
    }

    /// Everything but the password, so that the settings can be logged.
    public var description: String {
        let user = username.map { ", username: \($0)" } ?? ""
        let password = password == nil ? "" : ", password: <redacted>"
        return "SMTPSettings(\(security.rawValue)://\(host):\(port)\(user)\(password), from: \(from))"
    }
}

/// A plain-text email to one recipient.
public struct EmailMessage: Sendable, Equatable {
    /// The recipient: a bare address.
    public var to: String
    public var subject: String
    /// The body, in any line-ending convention: it is sent with CRLF.
    public var text: String
    /// Becomes the `Message-ID` header (angle brackets are added when missing): the caller derives it from what the email
    /// is about, so that a retried send after a lost reply is recognisable as the same message.
    public var messageID: String
    /// The body's language as a BCP 47 tag (`Content-Language`), such as "it".
    public var language: String?

    public init(to: String, subject: String, text: String, messageID: String, language: String? = nil) {
        self.to = to
        self.subject = subject
        self.text = text
        self.messageID = messageID
        self.language = language
    }
}

/// Why a message was not sent.
public struct SMTPError: Error, CustomStringConvertible {
    /// Where the conversation stopped.
    public enum Stage: String, Sendable {
        /// The settings are unusable (such as a line break in `from`); nothing was sent.
        case settings
        /// The message is unusable (such as a line break in the subject); nothing was sent.
        case message
        case connect
        /// The TLS handshake, including the verification of the server's certificate.
        case tls
        case greeting
        case hello
        case startTLS
        case auth
        case mailFrom
        case recipient
        case data
        /// The server's answer to the message itself.
        case body
    }

    public var stage: Stage
    /// The server's reply code, when the server refused something.
    public var code: Int?
    /// The server's reply text, or what went wrong.
    public var text: String

    /// Whether sending this message again cannot help: a 5xx reply, or an unusable message.
    /// Everything else (4xx replies, network and TLS failures, timeouts, unusable settings) may pass once the
    /// server or the settings are fixed, so the caller retries it.
    public var isPermanent: Bool {
        if stage == .message { return true }
        guard let code else { return false }
        return (500..<600).contains(code)
    }

    public var description: String {
        let reply = code.map { "\($0) " } ?? ""
        return "SMTP failed at \(stage.rawValue) (\(isPermanent ? "permanent" : "transient")): \(reply)\(text)"
    }

    init(stage: Stage, code: Int? = nil, text: String) {
        self.stage = stage
        self.code = code
        self.text = text
    }
}

/// Sends email through an SMTP relay, one connection per message.
public struct SMTPClient: Sendable {
    public let settings: SMTPSettings
    let eventLoopGroup: any EventLoopGroup

    public init(settings: SMTPSettings, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.settings = settings
        self.eventLoopGroup = eventLoopGroup
    }

    /// Sends `message`, dated `nowMs` (milliseconds since 1970), and returns once the server has accepted it.
    /// - Throws: `SMTPError`; a problem with the message or the settings is found before connecting.
    public func send(_ message: EmailMessage, nowMs: Int64) async throws {
        let settings = self.settings
        try Self.check(settings)
        let rendered = try message.rendered(from: settings.from, nowMs: nowMs)
        let tls = try settings.security == .none ? nil : Self.tlsContext(settings)
        // SNI carries host names only; for an IP address NIOSSL checks the certificate against the address instead.
        let serverHostname = (try? SocketAddress(ipAddress: settings.host, port: 0)) == nil ? settings.host : nil

        let firstError = FirstError()
        let channel: NIOAsyncChannel<SMTPReply, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(settings.timeout))
                .connect(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if settings.security == .tls, let tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                        }
                        try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(firstError: firstError))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError(stage: .connect, text: "cannot connect to \(settings.host):\(settings.port): \(error)")
        }

        // One deadline for the whole conversation: closing the channel ends whatever read is waiting.
        let expiry = Expiry()
        let timeout = channel.channel.eventLoop.scheduleTask(in: TimeAmount(settings.timeout)) { [channel = channel.channel] in
            expiry.fire()
            channel.close(promise: nil)
        }
        defer { timeout.cancel() }

        try await channel.executeThenClose { inbound, outbound in
            var conversation = SMTPConversation(
                replies: inbound.makeAsyncIterator(),
                outbound: outbound,
                channel: channel.channel,
                settings: settings,
                expiry: expiry,
                firstError: firstError
            )
            try await conversation.run(
                recipient: message.to,
                smtpUTF8: !(settings.from + message.to).allSatisfy(\.isASCII),
                body: SMTPClient.dotStuffed(rendered),
                startTLS: tls.map { StartTLSRequest(context: $0, serverHostname: serverHostname) }
            )
        }
    }

    static func check(_ settings: SMTPSettings) throws {
        try checkAddress(settings.from, field: "from address", stage: .settings)
        guard !settings.heloName.isEmpty, settings.heloName.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw SMTPError(stage: .settings, text: "the EHLO name must be printable ASCII without spaces")
        }
    }

    static func tlsContext(_ settings: SMTPSettings) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let path = settings.trustRootsPath {
            configuration.additionalTrustRoots = [.file(path)]
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SMTPError(stage: .settings, text: "cannot set up TLS (trust roots \(settings.trustRootsPath ?? "of the system")): \(error)")
        }
    }

    /// The DATA payload: `message` with a dot doubled at the start of each line (RFC 5321 4.5.2), then the final ".".
    static func dotStuffed(_ message: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(message.utf8.count + 16)
        var atLineStart = true
        for byte in message.utf8 {
            if atLineStart && byte == UInt8(ascii: ".") { buffer.writeInteger(UInt8(ascii: ".")) }
            buffer.writeInteger(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !atLineStart { buffer.writeString("\r\n") }
        buffer.writeString(".\r\n")
        return buffer
    }

    /// An address fit for both a header and `MAIL FROM:<...>`: one line, no spaces or angle brackets.
    static func checkAddress(_ address: String, field: String, stage: SMTPError.Stage) throws {
        if address.contains(where: \.isNewline) {
            throw SMTPError(stage: stage, text: "the \(field) contains a line break")
        }
        let forbidden = address.unicodeScalars.contains {
            $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F || "<>()\",;".unicodeScalars.contains($0)
        }
        guard !forbidden, address.contains("@"), address.utf8.count <= 254 else {
            throw SMTPError(stage: stage, text: "the \(field) is not a plain address: \(address.debugDescription)")
        }
    }
}

// MARK: - Rendering

extension EmailMessage {
    /// The message as sent in DATA (before dot-stuffing), RFC 5322 with CRLF line endings.
    func rendered(from: String, nowMs: Int64) throws -> String {
        try SMTPClient.checkAddress(to, field: "recipient", stage: .message)
        try SMTPClient.checkAddress(from, field: "from address", stage: .settings)
        if subject.contains(where: \.isNewline) {
            throw SMTPError(stage: .message, text: "the subject contains a line break")
        }
        let id = try Self.messageIDHeader(messageID)
        var headers = [
            "Date: \(Self.rfc5322Date(nowMs: nowMs))",
            "From: \(from)",
            "To: \(to)",
            "Subject: \(Self.encodedSubject(subject))",
            "Message-ID: \(id)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
        ]
        let (encoding, body) = Self.encodedBody(text)
        headers.append("Content-Transfer-Encoding: \(encoding)")
        if let language {
            guard !language.isEmpty, language.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") })
            else { throw SMTPError(stage: .message, text: "the language is not a language tag: \(language.debugDescription)") }
            headers.append("Content-Language: \(language)")
        }
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    static func messageIDHeader(_ id: String) throws -> String {
        if id.contains(where: \.isNewline) {
            throw SMTPError(stage: .message, text: "the Message-ID contains a line break")
        }
        let bare = id.hasPrefix("<") && id.hasSuffix(">") && id.count > 2 ? String(id.dropFirst().dropLast()) : id
        let acceptable = bare.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" }
        guard !bare.isEmpty, acceptable, bare.utf8.count <= 900 else {
            throw SMTPError(stage: .message, text: "the Message-ID is not printable ASCII without spaces: \(id.debugDescription)")
        }
        return "<\(bare)>"
    }

    /// The subject as is when it is short printable ASCII, otherwise as RFC 2047 encoded-words folded over several lines.
    static func encodedSubject(_ subject: String) -> String {
        let plain = subject.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && subject.utf8.count <= 900 && !subject.contains("=?")
        if plain { return subject }
        // Lines of at most 76 characters (RFC 2047 2): 39 bytes of whole characters make 52 of base64, a 64-character word,
        // which fits after "Subject: " as after the folding space.
        var words: [[UInt8]] = []
        var chunk: [UInt8] = []
        for scalar in subject.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 39 {
                words.append(chunk)
                chunk = []
            }
            chunk += bytes
        }
        words.append(chunk)
        return words.map { "=?UTF-8?B?\(Data($0).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    /// The body with CRLF line endings: 7bit when it is short-lined printable ASCII, otherwise quoted-printable,
    /// so that no server needs 8BITMIME and no line exceeds 76 characters.
    static func encodedBody(_ text: String) -> (encoding: String, body: String) {
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        let sevenBit = lines.allSatisfy { line in
            line.utf8.count <= 998 && line.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }
        }
        if sevenBit {
            return ("7bit", lines.map { $0 + "\r\n" }.joined())
        }
        return ("quoted-printable", lines.map { quotedPrintable(Array($0.utf8)) + "\r\n" }.joined())
    }

    /// One line of quoted-printable (RFC 2045 6.7), with soft breaks to keep encoded lines at most 76 characters.
    static func quotedPrintable(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        var column = 0
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 0x20 || byte == 0x09) && !isLast)
            let piece = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            // Leave room for the "=" of a soft break.
            if column + piece.count > 75 {
                out += Array("=\r\n".utf8)
                column = 0
            }
            out += piece
            column += piece.count
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// "Thu, 01 Jan 1970 00:00:00 +0000", always in UTC.
    static func rfc5322Date(nowMs: Int64) -> String {
        let seconds = nowMs >= 0 ? nowMs / 1000 : (nowMs - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from a day count (Howard Hinnant's days_from_civil, inverted).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        // 1 January 1970 was a Thursday.
        let weekday = ((days % 7) + 7 + 4) % 7
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let time = "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        return "\(weekdays[Int(weekday)]), \(two(day)) \(months[Int(month - 1)]) \(year) \(time) +0000"
    }
}

// MARK: - Conversation

/// One reply, its lines joined: "250-a", "250 b" is code 250 with lines ["a", "b"].
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]

    var text: String { lines.joined(separator: " ") }
}

/// Asks `SMTPReplyHandler` to start TLS right after the next reply if it is 220.
struct StartTLSRequest: Sendable {
    var context: NIOSSLContext
    var serverHostname: String?
}

/// The server broke the protocol.
struct SMTPProtocolViolation: Error, CustomStringConvertible {
    var description: String
}

/// Whether the conversation's deadline passed.
private final class Expiry: Sendable {
    private let fired = Atomic<Bool>(false)

    var hasFired: Bool { fired.load(ordering: .acquiring) }

    func fire() { fired.store(true, ordering: .releasing) }
}

/// The first error the pipeline saw. A failed TLS handshake closes the channel, and the conversation may first learn
/// of it as a failed write on a closed channel: this keeps the cause.
final class FirstError: Sendable {
    private let error = Mutex<(any Error)?>(nil)

    var value: (any Error)? { error.withLock { $0 } }

    func record(_ error: any Error) {
        self.error.withLock { $0 = $0 ?? error }
    }
}

/// Turns the bytes from the server into replies, and starts TLS on STARTTLS's 220.
final class SMTPReplyHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = SMTPReply
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// RFC 5321 allows 512 bytes a reply line; some servers send longer ones.
    static let maximumLineLength = 4096
    static let maximumLines = 256

    private var buffer = ByteBuffer()
    private var lines: [String] = []
    private var code: Int?
    private var startTLS: StartTLSRequest?
    private var failed = false
    private let firstError: FirstError

    init(firstError: FirstError) {
        self.firstError = firstError
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        firstError.record(error)
        context.fireErrorCaught(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        do {
            while let line = try nextLine() {
                guard let reply = try parse(line) else { continue }
                guard let request = startTLS else {
                    context.fireChannelRead(wrapInboundOut(reply))
                    continue
                }
                startTLS = nil
                if reply.code == 220 {
                    // Bytes after the 220 came in the clear, where a man in the middle could have injected them.
                    guard buffer.readableBytes == 0 else { throw SMTPProtocolViolation(description: "the server sent more after its STARTTLS reply") }
                    // Added here, on the event loop, so that every later byte goes through TLS.
                    let tls = try NIOSSLClientHandler(context: request.context, serverHostname: request.serverHostname)
                    try context.pipeline.syncOperations.addHandler(tls, position: .first)
                }
                context.fireChannelRead(wrapInboundOut(reply))
                // The TLS handler now in front swallows this read's channelReadComplete, which NIOAsyncChannel
                // waits for before handing on the reply.
                context.fireChannelReadComplete()
            }
            buffer.discardReadBytes()
        } catch {
            failed = true
            firstError.record(error)
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let request = event as? StartTLSRequest {
            startTLS = request
            promise?.succeed()
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    private func nextLine() throws -> [UInt8]? {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maximumLineLength { throw SMTPProtocolViolation(description: "a reply line is too long") }
            return nil
        }
        let length = newline - buffer.readableBytesView.startIndex
        guard length <= Self.maximumLineLength, var line = buffer.readBytes(length: length + 1) else {
            throw SMTPProtocolViolation(description: "a reply line is too long")
        }
        line.removeLast()
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    /// The reply `line` completes, if it does.
    private func parse(_ line: [UInt8]) throws -> SMTPReply? {
        let digits = line.prefix(3)
        guard digits.count == 3, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let lineCode = Int(String(decoding: digits, as: UTF8.self)), (200..<600).contains(lineCode)
        else { throw SMTPProtocolViolation(description: "not an SMTP reply: \(String(decoding: line.prefix(80), as: UTF8.self).debugDescription)") }
        let separator = line.count > 3 ? line[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw SMTPProtocolViolation(description: "not an SMTP reply: \(String(decoding: line.prefix(80), as: UTF8.self).debugDescription)")
        }
        if let code, code != lineCode { throw SMTPProtocolViolation(description: "a multi-line reply changes its code from \(code) to \(lineCode)") }
        code = lineCode
        lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        if separator == UInt8(ascii: "-") {
            guard lines.count < Self.maximumLines else { throw SMTPProtocolViolation(description: "a reply has too many lines") }
            return nil
        }
        defer {
            code = nil
            lines = []
        }
        return SMTPReply(code: lineCode, lines: lines)
    }
}

@available(*, unavailable)
extension SMTPReplyHandler: Sendable {}

/// The client's side of one SMTP session (RFC 5321), with STARTTLS (RFC 3207) and AUTH (RFC 4954).
private struct SMTPConversation {
    var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let channel: any Channel
    let settings: SMTPSettings
    let expiry: Expiry
    let firstError: FirstError
    var stage = SMTPError.Stage.greeting

    mutating func run(recipient: String, smtpUTF8: Bool, body: ByteBuffer, startTLS: StartTLSRequest?) async throws {
        stage = .greeting
        try expect(220...220, try await reply())
        var capabilities = try await hello()

        if settings.security == .startTLS, let startTLS {
            guard capabilities["STARTTLS"] != nil else {
                await quit()
                throw SMTPError(stage: .startTLS, text: "the server does not offer STARTTLS, and the settings require TLS: nothing was sent")
            }
            stage = .startTLS
            do {
                try await channel.triggerUserOutboundEvent(startTLS).get()
            } catch {
                throw failure(error)
            }
            try await command("STARTTLS", stage: .startTLS, expect: 220...220)
            // The server forgets everything said before TLS (RFC 3207 4.2), extensions included.
            capabilities = try await hello()
        }

        if let username = settings.username, let password = settings.password {
            try await authenticate(username: username, password: password, capabilities: capabilities)
        }

        if smtpUTF8 && capabilities["SMTPUTF8"] == nil {
            await quit()
            throw SMTPError(stage: .message, text: "an address is not ASCII, and the server does not offer SMTPUTF8")
        }
        try await command("MAIL FROM:<\(settings.from)>\(smtpUTF8 ? " SMTPUTF8" : "")", stage: .mailFrom, expect: 200...299)
        try await command("RCPT TO:<\(recipient)>", stage: .recipient, expect: 200...299)
        try await command("DATA", stage: .data, expect: 354...354)
        stage = .body
        try await write(body)
        try expect(200...299, try await reply())
        // Delivered: whatever QUIT meets, the message must not be sent again.
        await quit()
    }

    /// EHLO, and the extensions the server announces, by keyword: "AUTH" to ["PLAIN", "LOGIN"].
    mutating func hello() async throws -> [String: [String]] {
        let reply = try await command("EHLO \(settings.heloName)", stage: .hello, expect: 250...250)
        var capabilities: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            // Some servers still write the pre-standard "AUTH=LOGIN".
            let words = line.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" }).map(String.init)
            guard let keyword = words.first else { continue }
            capabilities[keyword, default: []] += words.dropFirst()
        }
        return capabilities
    }

    mutating func authenticate(username: String, password: String, capabilities: [String: [String]]) async throws {
        let mechanisms = capabilities["AUTH"] ?? []
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if mechanisms.contains("PLAIN") {
            try await command("AUTH PLAIN \(base64("\0\(username)\0\(password)"))", stage: .auth, expect: 235...235)
        } else if mechanisms.contains("LOGIN") {
            try await command("AUTH LOGIN", stage: .auth, expect: 334...334)
            try await command(base64(username), stage: .auth, expect: 334...334)
            try await command(base64(password), stage: .auth, expect: 235...235)
        } else {
            await quit()
            let offered = mechanisms.isEmpty ? "no AUTH" : "AUTH \(mechanisms.joined(separator: " "))"
            throw SMTPError(stage: .auth, text: "the settings have credentials, but the server offers \(offered) (only PLAIN and LOGIN are supported)")
        }
    }

    /// Sends `line` and reads the reply, which must have a code in `expected`.
    @discardableResult
    mutating func command(_ line: String, stage: SMTPError.Stage, expect expected: ClosedRange<Int>) async throws -> SMTPReply {
        self.stage = stage
        try await write(ByteBuffer(string: line + "\r\n"))
        let reply = try await reply()
        try expect(expected, reply)
        return reply
    }

    func expect(_ expected: ClosedRange<Int>, _ reply: SMTPReply) throws {
        guard expected.contains(reply.code) else { throw SMTPError(stage: stage, code: reply.code, text: reply.text) }
    }

    mutating func reply() async throws -> SMTPReply {
        let next: SMTPReply?
        do {
            next = try await replies.next()
        } catch {
            throw failure(error)
        }
        guard let next else { throw failure(nil) }
        return next
    }

    func write(_ buffer: ByteBuffer) async throws {
        do {
            try await outbound.write(buffer)
        } catch {
            throw failure(error)
        }
    }

    /// Says goodbye, ignoring whatever goes wrong: the outcome is already decided.
    mutating func quit() async {
        do {
            try await outbound.write(ByteBuffer(string: "QUIT\r\n"))
            _ = try await replies.next()
        } catch {}
    }

    /// `error` (nil for a closed connection) as an SMTPError at the current stage.
    func failure(_ error: (any Error)?) -> any Error {
        if error is CancellationError { return error! }
        if expiry.hasFired {
            return SMTPError(stage: stage, text: "timed out after \(settings.timeout)")
        }
        switch firstError.value ?? error {
        case .none:
            return SMTPError(stage: stage, text: "the server closed the connection")
        case let error as NIOSSLError:
            return SMTPError(stage: .tls, text: "TLS failed with \(settings.host): \(error)")
        case let error as NIOSSLExtraError:
            return SMTPError(stage: .tls, text: "TLS failed with \(settings.host): \(error)")
        case let error?:
            return SMTPError(stage: stage, text: "\(error)")
        }
    }
}
