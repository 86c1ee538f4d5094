/// A point on a page, in points from the top-left corner, y growing downwards.
public struct PDFPoint: Sendable, Hashable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// An RGB colour, each component from 0 to 1.
public struct PDFColor: Sendable, Hashable {
    public let red: Double
    public let green: Double
    public let blue: Double

    /// Components outside 0...1 (or not numbers) are clamped, since a reader would reject or clamp them anyway.
    public init(red: Double, green: Double, blue: Double) {
        self.red = Self.clamped(red)
        self.green = Self.clamped(green)
        self.blue = Self.clamped(blue)
    }

    /// A CSS-style colour, `#1f6feb` or `#fff` (the `#` is optional); nil when it is not one.
    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? hex.dropFirst() : Substring(hex)
        // Checked by hand because `UInt32(_:radix:)` would also accept a sign.
        let isHexDigit = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte) }
        guard digits.utf8.count == 6 || digits.utf8.count == 3, digits.utf8.allSatisfy(isHexDigit), let value = UInt32(digits, radix: 16) else { return nil }
        if digits.utf8.count == 3 {
            // Each digit is doubled: #abc is #aabbcc.
            let (r, g, b) = (value >> 8, (value >> 4) & 0xF, value & 0xF)
            self.init(red: Double(r * 17) / 255, green: Double(g * 17) / 255, blue: Double(b * 17) / 255)
        } else {
            self.init(red: Double(value >> 16) / 255, green: Double((value >> 8) & 0xFF) / 255, blue: Double(value & 0xFF) / 255)
        }
    }

    public static let black = PDFColor(red: 0, green: 0, blue: 0)
    public static let white = PDFColor(red: 1, green: 1, blue: 1)

    /// A neutral grey: 0 is black, 1 is white.
    public static func gray(_ level: Double) -> PDFColor {
        PDFColor(red: level, green: level, blue: level)
    }

    /// The three components as PDF operands.
    var operands: String {
        "\(PDFSyntax.number(red)) \(PDFSyntax.number(green)) \(PDFSyntax.number(blue))"
    }

    private static func clamped(_ component: Double) -> Double {
        component.isNaN ? 0 : min(max(component, 0), 1)
    }
}

/// Where a string sits relative to the x it is drawn at.
public enum PDFTextAlignment: Sendable {
    /// Starts at x.
    case left
    /// Is centred on x.
    case center
    /// Ends at x.
    case right
}

/// One page of a document: text and simple vector shapes, in points, with the origin at the TOP-LEFT corner and y growing
/// downwards, as layout code thinks; the page turns that into PDF's bottom-left origin itself.
public struct PDFPage: Sendable {
    /// ISO A4 in points.
    public static let a4 = (width: 595.28, height: 841.89)

    public let width: Double
    public let height: Double
    /// The page's content stream: drawing operators, plain ASCII.
    private(set) var content: [UInt8] = []

    public init(width: Double = PDFPage.a4.width, height: Double = PDFPage.a4.height) {
        self.width = width
        self.height = height
    }

    /// Draws one line of text with its baseline at `y`. For `.center` and `.right`, `x` is the centre or the right end,
    /// found with the font's real widths. Characters outside WinAnsi are drawn as `?`.
    public mutating func text(
        _ string: String,
        x: Double,
        y: Double,
        size: Double,
        font: PDFFont = .regular,
        color: PDFColor = .black,
        alignment: PDFTextAlignment = .left
    ) {
        guard !string.isEmpty else { return }
        let textWidth = PDFText.width(of: string, font: font, size: size)
        let left =
            switch alignment {
            case .left: x
            case .center: x - textWidth / 2
            case .right: x - textWidth
            }
        append("BT /\(font.resourceName) \(number(size)) Tf \(color.operands) rg \(number(left)) \(number(height - y)) Td ")
        content += PDFSyntax.literal(WinAnsi.encode(string))
        append(" Tj ET\n")
    }

    /// A straight line.
    public mutating func line(from start: PDFPoint, to end: PDFPoint, width: Double = 1, color: PDFColor = .black) {
        append("\(number(width)) w \(color.operands) RG \(coordinates(start)) m \(coordinates(end)) l S\n")
    }

    /// A rectangle whose top-left corner is at (`x`, `y`), filled, stroked, both, or (with neither colour) nothing.
    public mutating func rectangle(x: Double, y: Double, width: Double, height: Double, fill: PDFColor?, stroke: PDFColor? = nil, lineWidth: Double = 1) {
        let painting: String
        var operators = ""
        switch (fill, stroke) {
        case (nil, nil):
            return
        case (let fill?, nil):
            operators = "\(fill.operands) rg "
            painting = "f"
        case (nil, let stroke?):
            operators = "\(number(lineWidth)) w \(stroke.operands) RG "
            painting = "S"
        case (let fill?, let stroke?):
            operators = "\(fill.operands) rg \(number(lineWidth)) w \(stroke.operands) RG "
            painting = "B"
        }
        append(operators + "\(number(x)) \(number(self.height - y - height)) \(number(width)) \(number(height)) re \(painting)\n")
    }

    /// An open line through `points`, with round joins and caps so chart lines have no spikes at sharp turns.
    /// Fewer than two points draw nothing.
    public mutating func polyline(_ points: [PDFPoint], width: Double, color: PDFColor) {
        guard points.count >= 2 else { return }
        // Saved and restored so the round joins and caps do not leak into later lines.
        append("q 1 J 1 j \(number(width)) w \(color.operands) RG \(path(points)) S Q\n")
    }

    /// A filled closed shape through `points` (an area under a chart line, say). Fewer than three points draw nothing.
    public mutating func polygon(_ points: [PDFPoint], fill: PDFColor) {
        guard points.count >= 3 else { return }
        append("\(fill.operands) rg \(path(points)) h f\n")
    }

    private mutating func append(_ operators: String) {
        content += Array(operators.utf8)
    }

    private func number(_ value: Double) -> String {
        PDFSyntax.number(value)
    }

    /// A point in PDF's coordinates, whose origin is the bottom-left corner.
    private func coordinates(_ point: PDFPoint) -> String {
        "\(number(point.x)) \(number(height - point.y))"
    }

    private func path(_ points: [PDFPoint]) -> String {
        points.enumerated().map { index, point in "\(coordinates(point)) \(index == 0 ? "m" : "l")" }.joined(separator: " ")
    }
}
