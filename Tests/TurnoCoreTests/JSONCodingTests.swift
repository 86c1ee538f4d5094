import Foundation
import Testing
import TurnoCore

@Suite("One JSON form: snake_case keys, times to the millisecond")
struct JSONCodingTests {
    struct Stamped: Codable, Equatable {
        var issuedAt: Date
        var queueId: Int
    }

    @Test("times are written in UTC to the millisecond, and read back as the same millisecond")
    func millisecondTimes() throws {
        let value = Stamped(issuedAt: Date(milliseconds: 1_795_299_017_123), queueId: 7)
        let text = try JSONCoding.text(value)
        #expect(text == #"{"issued_at":"2026-11-21T22:10:17.123Z","queue_id":7}"#)
        #expect(try JSONCoding.decoder.decode(Stamped.self, from: Data(text.utf8)) == value)
        // Clients may send fewer or more decimals, or an offset.
        let sent = #"{"issued_at":"2026-11-21T23:10:17.1234+01:00","queue_id":7}"#
        #expect(try JSONCoding.decoder.decode(Stamped.self, from: Data(sent.utf8)).issuedAt.milliseconds == 1_795_299_017_123)
        #expect(throws: DecodingError.self) { try JSONCoding.decoder.decode(Stamped.self, from: Data(#"{"issued_at":"yesterday","queue_id":7}"#.utf8)) }
    }

    @Test("every millisecond is written as Foundation writes its second, and parses back to itself (property)")
    func formatMatchesFoundation() {
        var random = SystemRandomNumberGenerator()
        let seconds = Date.ISO8601FormatStyle()
        // From 1900 to 2200, and around the edges of days, leap days and the epoch.
        var samples: [Int64] = [0, -1, 1, 86_399_999, 86_400_000, 951_782_400_000, 951_868_799_999, -2_208_988_800_000, 7_258_118_399_999]
        for _ in 0..<5_000 { samples.append(Int64.random(in: -2_208_988_800_000...7_258_118_400_000, using: &random)) }
        for ms in samples {
            let text = Timestamp.format(milliseconds: ms)
            let millisecond = ((ms % 1000) + 1000) % 1000
            let fraction = "." + String(1000 + millisecond).dropFirst()
            #expect(text == seconds.format(Date(milliseconds: ms - millisecond)).dropLast() + fraction + "Z", "\(ms)")
            #expect(Timestamp.parse(text) == ms, "\(text)")
        }
    }

    @Test(
        "offsets, decimals and impossible dates",
        arguments: [
            ("2026-11-21T07:30:00Z", 1_795_246_200_000),
            ("2026-11-21T07:30:00.5Z", 1_795_246_200_500),
            ("2026-11-21T07:30:00.250+01:00", 1_795_242_600_250),
            ("2026-11-21T07:30:00.999999-03:30", 1_795_258_800_999),
            ("2024-02-29T00:00:00Z", 1_709_164_800_000),
            ("2026-02-29T00:00:00Z", nil),
            ("2026-11-21T24:00:00Z", nil),
            ("2026-11-21T07:30:00", nil),
            ("2026-11-21T07:30:00.Z", nil),
            ("2026-11-21T07:30:00+0100", nil),
            ("2026-11-21 07:30:00Z", nil),
            ("", nil),
        ] as [(String, Int64?)]
    )
    func parsing(text: String, ms: Int64?) {
        #expect(Timestamp.parse(text) == ms)
    }
}
