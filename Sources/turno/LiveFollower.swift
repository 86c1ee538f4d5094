import Foundation
import NIOCore
import NIOPosix

/// A listen-only WebSocket client for `/live/ws`, small enough to hold tens of thousands of at once, that can choose
/// its loopback source address (each source address has its own ~28,000 ephemeral ports). It answers the server's
/// pings and hands every text message, with the wall-clock time it arrived, to its caller.
///
/// Hummingbird's client cannot bind a source address, hence this one; it speaks only what the live routes send
/// (whole or fragmented text frames, ping, close) and refuses anything but `101 Switching Protocols`.
enum LiveFollower {
    struct Target: Sendable {
        var host: String
        var port: Int
        /// Path and query, such as `/live/ws?topics=branch:1`.
        var path: String
        /// A loopback address to connect from, or nil to let the system choose.
        var source: String?
    }

    /// Connects, calls `opened` once the upgrade is done, then passes each text message and its arrival time (seconds
    /// since 1970) to `received` until it returns false or the server closes the connection.
    static func follow(
        _ target: Target,
        opened: @Sendable () -> Void,
        received: (String, Double) -> Bool
    ) async throws {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(10))
        if let source = target.source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        let channel = try await bootstrap.connect(host: target.host, port: target.port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        try await channel.executeThenClose { inbound, outbound in
            let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            try await outbound.write(
                ByteBuffer(
                    string: """
                        GET \(target.path) HTTP/1.1\r
                        Host: \(target.host):\(target.port)\r
                        Upgrade: websocket\r
                        Connection: Upgrade\r
                        Sec-WebSocket-Key: \(key)\r
                        Sec-WebSocket-Version: 13\r
                        \r

                        """
                )
            )
            var pending = ByteBuffer()
            var upgraded = false
            var message: [UInt8] = []
            for try await var chunk in inbound {
                let arrival = Date().timeIntervalSince1970
                pending.writeBuffer(&chunk)
                if !upgraded {
                    guard let end = headerEnd(in: pending) else { continue }
                    let status = pending.readString(length: end) ?? ""
                    guard status.hasPrefix("HTTP/1.1 101") else {
                        throw Failure("the live connection was refused: \(status.prefix { $0 != "\r" })")
                    }
                    upgraded = true
                    opened()
                }
                while let frame = Frame.read(from: &pending) {
                    switch frame.opcode {
                    case 0x1, 0x0:
                        message += frame.payload
                        guard frame.final else { continue }
                        defer { message.removeAll(keepingCapacity: true) }
                        if !received(String(decoding: message, as: UTF8.self), arrival) {
                            try await outbound.write(Frame.masked(opcode: 0x8, payload: [0x03, 0xE8]))
                            return
                        }
                    case 0x9:
                        try await outbound.write(Frame.masked(opcode: 0xA, payload: frame.payload))
                    case 0x8:
                        return
                    default:
                        continue
                    }
                }
                pending.discardReadBytes()
            }
        }
    }

    /// The length of the HTTP answer's head including its blank line, once it has all arrived.
    static func headerEnd(in buffer: ByteBuffer) -> Int? {
        let bytes = buffer.readableBytesView
        guard bytes.count >= 4 else { return nil }
        var index = bytes.startIndex
        while index + 3 < bytes.endIndex {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                return index - bytes.startIndex + 4
            }
            index += 1
        }
        return nil
    }

    /// One WebSocket frame (RFC 6455 §5.2).
    struct Frame {
        var final: Bool
        var opcode: UInt8
        var payload: [UInt8]

        /// The next whole frame at the buffer's reader index, consumed; nil until all of it has arrived.
        static func read(from buffer: inout ByteBuffer) -> Frame? {
            let start = buffer.readerIndex
            guard let first = buffer.getInteger(at: start, as: UInt8.self), let second = buffer.getInteger(at: start + 1, as: UInt8.self) else {
                return nil
            }
            var header = 2
            var length = Int(second & 0x7F)
            if length == 126 {
                guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
                length = Int(extended)
                header += 2
            } else if length == 127 {
                guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
                // Nothing the live routes send comes near; a length past 1 GiB is garbage, not a frame to wait for.
                length = extended < 1 << 30 ? Int(extended) : 1 << 30
                header += 8
            }
            let mask: [UInt8]? = second & 0x80 != 0 ? buffer.getBytes(at: start + header, length: 4) : nil
            if second & 0x80 != 0 {
                guard mask != nil else { return nil }
                header += 4
            }
            guard var payload = buffer.getBytes(at: start + header, length: length) else { return nil }
            if let mask {
                for index in payload.indices { payload[index] ^= mask[index & 3] }
            }
            buffer.moveReaderIndex(forwardBy: header + length)
            return Frame(final: first & 0x80 != 0, opcode: first & 0x0F, payload: payload)
        }

        /// A final client frame: clients must mask what they send.
        static func masked(opcode: UInt8, payload: [UInt8]) -> ByteBuffer {
            precondition(payload.count < 126, "control frames carry at most 125 bytes")
            let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
            var buffer = ByteBuffer()
            buffer.writeBytes([0x80 | opcode, 0x80 | UInt8(payload.count)] + mask)
            buffer.writeBytes(payload.enumerated().map { $0.element ^ mask[$0.offset & 3] })
            return buffer
        }
    }

    /// The `"time"` of a live message (`2026-11-22T01:02:03.456Z`, always UTC) in seconds since 1970; parsed by hand
    /// because a load generator reads tens of thousands of these a second.
    static func eventTime(in message: String) -> Double? {
        let marker = Array(#""time":""#.utf8)
        var utf8 = message.utf8.makeIterator()
        var matched = 0
        while matched < marker.count, let byte = utf8.next() {
            matched = byte == marker[matched] ? matched + 1 : (byte == marker[0] ? 1 : 0)
        }
        guard matched == marker.count else { return nil }
        var digits: [Int] = []
        var fraction = 0.0
        var scale = 0.1
        var inFraction = false
        while let byte = utf8.next(), byte != UInt8(ascii: "\"") {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = Int(byte - UInt8(ascii: "0"))
                if inFraction {
                    fraction += Double(digit) * scale
                    scale /= 10
                } else {
                    digits.append(digit)
                }
            case UInt8(ascii: "."): inFraction = true
            default: continue
            }
        }
        guard digits.count == 14 else { return nil }
        func number(_ range: Range<Int>) -> Int { digits[range].reduce(0) { $0 * 10 + $1 } }
        let days = daysSince1970(year: number(0..<4), month: number(4..<6), day: number(6..<8))
        return Double(days * 86_400 + number(8..<10) * 3_600 + number(10..<12) * 60 + number(12..<14)) + fraction
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
