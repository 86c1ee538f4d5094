import Foundation

/// Windows code page 1252, PDF's `/WinAnsiEncoding`: the one byte encoding the standard 14 fonts offer that covers English and Italian.
enum WinAnsi {
    /// What a character the encoding lacks becomes, in the file and when measured.
    static let replacement: UInt8 = 0x3F

    /// One byte per character (grapheme), so a character outside the encoding is one `?`, not one per scalar.
    static func encode(_ string: String) -> [UInt8] {
        string.map(byte(for:))
    }

    /// The byte of one character, or `?`.
    static func byte(for character: Character) -> UInt8 {
        let scalars = character.unicodeScalars
        if scalars.count == 1, let scalar = scalars.first {
            return byte(for: scalar)
        }
        // "e" followed by a combining acute accent is the same character as "é": compose it before giving up.
        let composed = String(character).precomposedStringWithCanonicalMapping.unicodeScalars
        if composed.count == 1, let scalar = composed.first {
            return byte(for: scalar)
        }
        return replacement
    }

    /// The byte of one Unicode scalar, or `?`. Control characters have no glyph, so they are `?` too.
    static func byte(for scalar: Unicode.Scalar) -> UInt8 {
        switch scalar.value {
        case 0x20...0x7E, 0xA0...0xFF: UInt8(scalar.value)
        case 0x20AC: 0x80  // €
        case 0x201A: 0x82  // ‚
        case 0x0192: 0x83  // ƒ
        case 0x201E: 0x84  // „
        case 0x2026: 0x85  // …
        case 0x2020: 0x86  // †
        case 0x2021: 0x87  // ‡
        case 0x02C6: 0x88  // ˆ
        case 0x2030: 0x89  // ‰
        case 0x0160: 0x8A  // Š
        case 0x2039: 0x8B  // ‹
        case 0x0152: 0x8C  // Œ
        case 0x017D: 0x8E  // Ž
        case 0x2018: 0x91  // ‘
        case 0x2019: 0x92  // ’
        case 0x201C: 0x93  // “
        case 0x201D: 0x94  // ”
        case 0x2022: 0x95  // •
        case 0x2013: 0x96  // –
        case 0x2014: 0x97  // —
        case 0x02DC: 0x98  // ˜
        case 0x2122: 0x99  // ™
        case 0x0161: 0x9A  // š
        case 0x203A: 0x9B  // ›
        case 0x0153: 0x9C  // œ
        case 0x017E: 0x9E  // ž
        case 0x0178: 0x9F  // Ÿ
        default: replacement
        }
    }
}
