import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A set of IP address ranges, such as the proxies whose `X-Forwarded-For` is believed (`TURNO_TRUSTED_PROXIES`),
/// with the rule that finds the client behind them: the rightmost address that is not one of them (nginx's
/// `real_ip_recursive on`). Everything left of it was written by the client and is ignored, so a forged header
/// cannot choose the address that rate limits and the audit see.
public struct AddressRanges: Sendable, Equatable {
    /// One address range: the address's bytes (4 or 16) and how many leading bits must match.
    struct Range: Sendable, Equatable {
        var bytes: [UInt8]
        var prefixLength: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var bits = prefixLength
            for (a, b) in zip(address, bytes) where bits > 0 {
                let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if a & mask != b & mask { return false }
                bits -= 8
            }
            return true
        }
    }

    let ranges: [Range]

    /// No address: with no trusted proxy the client is whoever opened the connection.
    public static let none = AddressRanges(ranges: [])
    /// This machine: 127.0.0.0/8 and ::1.
    public static let loopback = AddressRanges(ranges: [
        Range(bytes: [127, 0, 0, 0], prefixLength: 8), Range(bytes: Array(repeating: 0, count: 15) + [1], prefixLength: 128),
    ])

    init(ranges: [Range]) {
        self.ranges = ranges
    }

    /// Parses a comma-separated list of addresses and CIDR ranges: `127.0.0.1, 10.0.0.0/8, ::1`.
    public init(parsing text: String) throws(SettingsError) {
        var ranges: [Range] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, let bytes = Self.bytes(of: String(parts[0])) else {
                throw SettingsError("trusted proxies are addresses or CIDR ranges such as 127.0.0.1 or 10.0.0.0/8; got \(item)")
            }
            let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let length, (0...bytes.count * 8).contains(length) else {
                throw SettingsError("the prefix length of \(item) must be between 0 and \(bytes.count * 8)")
            }
            ranges.append(Range(bytes: bytes, prefixLength: length))
        }
        self.init(ranges: ranges)
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether `address` is in one of the ranges.
    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.bytes(of: address) else { return false }
        return ranges.contains { $0.contains(bytes) }
    }

    /// The client's address: the connection's peer unless it is a trusted proxy; then the rightmost entry of
    /// `X-Forwarded-For` that is not trusted. An entry that is not an address ends the walk at the hop that passed it on.
    public func clientAddress(peer: String, forwardedFor: String?) -> String {
        guard contains(peer), let forwardedFor else { return peer }
        var client = peer
        for entry in forwardedFor.split(separator: ",").reversed() {
            let address = entry.trimmingCharacters(in: .whitespaces)
            guard Self.bytes(of: address) != nil else { return client }
            client = address
            if !contains(address) { return address }
        }
        return client
    }

    /// The bytes of an IPv4 or IPv6 address in text form, or nil when it is not one.
    static func bytes(of address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is that IPv4 address.
            if bytes.prefix(10).allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes.suffix(4)) }
            return bytes
        }
        return nil
    }
}
