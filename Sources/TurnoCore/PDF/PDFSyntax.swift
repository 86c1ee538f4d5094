import Foundation

/// The pieces of PDF syntax the writer needs, written byte for byte without locales so the same input gives the same file.
enum PDFSyntax {
    /// A number with at most three decimals, never in exponent notation and never "-0": a thousandth of a point is far below
    /// what any device shows, and PDF has no exponent syntax at all.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        // Far beyond any page coordinate, but small enough that the conversion to Int64 cannot trap.
        let thousandths = Int64((min(max(value, -1e12), 1e12) * 1000).rounded())
        let magnitude = thousandths.magnitude
        var text = thousandths < 0 ? "-" : ""
        text += String(magnitude / 1000)
        var fraction = magnitude % 1000
        guard fraction != 0 else { return text }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let decimals = String(fraction)
        return text + "." + String(repeating: "0", count: digits - decimals.count) + decimals
    }

    /// A literal string `( … )` of already encoded bytes. Besides the three delimiters, every byte outside printable ASCII
    /// is written in octal, so content streams stay plain ASCII and no line ending inside a string can be misread.
    static func literal(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = [0x28]
        for byte in bytes {
            switch byte {
            case 0x28, 0x29, 0x5C:
                output += [0x5C, byte]
            case 0x20...0x7E:
                output.append(byte)
            default:
                output += [0x5C, 0x30 + (byte >> 6), 0x30 + ((byte >> 3) & 7), 0x30 + (byte & 7)]
            }
        }
        output.append(0x29)
        return output
    }

    /// A text string for the document information: UTF-16BE behind a byte order mark, in hex, so any title survives.
    static func textString(_ string: String) -> String {
        var hex = "<FEFF"
        for unit in string.utf16 {
            let digits = String(unit, radix: 16, uppercase: true)
            hex += String(repeating: "0", count: 4 - digits.count) + digits
        }
        return hex + ">"
    }

    /// A date string `(D:YYYYMMDDHHmmSSZ)` in UTC, so the file does not depend on the machine's time zone.
    static func date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let fields = [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second].map { $0 ?? 0 }
        let widths = [4, 2, 2, 2, 2, 2]
        let digits = zip(fields, widths).map { field, width in
            let text = String(field)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "(D:" + digits.joined() + "Z)"
    }
}
