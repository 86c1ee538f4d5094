/// The two fonts a report uses: the standard 14 fonts need no embedding, so files stay small and every reader has them.
public enum PDFFont: Sendable, CaseIterable {
    /// Helvetica.
    case regular
    /// Helvetica-Bold.
    case bold

    /// The PostScript name readers look the font up by.
    var baseFont: String {
        switch self {
        case .regular: "Helvetica"
        case .bold: "Helvetica-Bold"
        }
    }

    /// The name pages use for the font in their shared resources.
    var resourceName: String {
        switch self {
        case .regular: "F1"
        case .bold: "F2"
        }
    }

    /// The advance of one WinAnsi byte, in thousandths of the font size.
    func advance(of byte: UInt8) -> Int {
        guard byte >= 32 else { return advance(of: WinAnsi.replacement) }
        let widths = self == .regular ? HelveticaMetrics.regular : HelveticaMetrics.bold
        return Int(widths[Int(byte) - 32])
    }

    /// The advance of a whole string as it will be written, in thousandths of the font size.
    func advance(of text: some StringProtocol) -> Int {
        text.reduce(0) { $0 + advance(of: WinAnsi.byte(for: $1)) }
    }
}

/// Measuring and fitting text in the widths of the fonts, as a reader will draw it (no kerning: `Tj` does not apply it).
public enum PDFText {
    /// The ellipsis that ends a truncated string.
    static let ellipsis = "…"

    /// The width in points of `text` in `font` at `size`; characters outside WinAnsi measure as the `?` they are drawn as.
    public static func width(of text: String, font: PDFFont, size: Double) -> Double {
        points(font.advance(of: text), size: size)
    }

    /// `text` broken into lines no wider than `width`, greedily, at spaces. Line breaks in `text` start new lines (an empty
    /// line stays empty, so `""` is one empty line); a word wider than a whole line is cut between characters.
    public static func wrapped(_ text: String, font: PDFFont, size: Double, width: Double) -> [String] {
        let space = font.advance(of: 0x20)
        var lines: [String] = []
        for paragraph in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            var line = ""
            var lineAdvance = 0
            // No-break spaces join words on purpose ("€ 12,50"), so they are not break opportunities.
            for word in paragraph.split(whereSeparator: { $0.isWhitespace && !noBreakSpaces.contains($0) }) {
                let wordAdvance = font.advance(of: word)
                if !line.isEmpty {
                    if points(lineAdvance + space + wordAdvance, size: size) <= width {
                        line += " " + word
                        lineAdvance += space + wordAdvance
                        continue
                    }
                    lines.append(line)
                }
                var pieces = points(wordAdvance, size: size) <= width ? [String(word)] : cut(word, font: font, size: size, width: width)
                line = pieces.removeLast()
                lineAdvance = font.advance(of: line)
                lines += pieces
            }
            lines.append(line)
        }
        return lines
    }

    /// `text` if it fits in `width`; otherwise its longest start that fits followed by "…". Empty when not even "…" fits.
    public static func truncated(_ text: String, font: PDFFont, size: Double, width: Double) -> String {
        if points(font.advance(of: text), size: size) <= width {
            return text
        }
        let ellipsisAdvance = font.advance(of: ellipsis)
        guard points(ellipsisAdvance, size: size) <= width else { return "" }
        var kept = ""
        var keptAdvance = 0
        for character in text {
            let advance = font.advance(of: WinAnsi.byte(for: character))
            guard points(keptAdvance + advance + ellipsisAdvance, size: size) <= width else { break }
            kept.append(character)
            keptAdvance += advance
        }
        // "word …" reads as a separate symbol: let the ellipsis touch the last word.
        while kept.last?.isWhitespace == true {
            kept.removeLast()
        }
        return kept + ellipsis
    }

    /// Characters that look like spaces but must not end a line.
    private static let noBreakSpaces: Set<Character> = ["\u{00A0}", "\u{2007}", "\u{202F}"]

    /// Thousandths of the font size in points. Every fitting decision goes through here so that it agrees with `width(of:)`.
    private static func points(_ advance: Int, size: Double) -> Double {
        Double(advance) * size / 1000
    }

    /// A word too long for a line, in pieces that fit; each piece has at least one character, so narrow widths still progress.
    private static func cut(_ word: Substring, font: PDFFont, size: Double, width: Double) -> [String] {
        var pieces: [String] = []
        var piece = ""
        var pieceAdvance = 0
        for character in word {
            let advance = font.advance(of: WinAnsi.byte(for: character))
            if !piece.isEmpty && points(pieceAdvance + advance, size: size) > width {
                pieces.append(piece)
                piece = ""
                pieceAdvance = 0
            }
            piece.append(character)
            pieceAdvance += advance
        }
        pieces.append(piece)
        return pieces
    }
}
