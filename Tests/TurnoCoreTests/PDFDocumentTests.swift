import Foundation
import Testing

@testable import TurnoCore

/// The PDF writer: the file's structure parsed back byte by byte, the encoding and metrics against known values, and real
/// files read by poppler (pdfinfo, pdftotext, pdftoppm), which CI installs.
@Suite("PDF documents")
struct PDFDocumentTests {
    @Test("every xref entry is 20 bytes and points at its object, and every /Length is its stream's byte count")
    func fileStructure() throws {
        let bytes = Self.sampleDocument().rendered()
        #expect(Array(bytes.prefix(9)) == Array("%PDF-1.7\n".utf8))
        // The binary comment: a percent sign, then bytes above 127.
        #expect(bytes[9] == 0x25 && bytes[10...13].allSatisfy { $0 >= 0x80 } && bytes[14] == 0x0A)
        #expect(Array(bytes.suffix(6)) == Array("%%EOF\n".utf8))

        let startxref = try #require(Self.lastRange(of: "startxref\n", in: bytes))
        let tableOffset = try #require(Int(Self.line(in: bytes, at: startxref.upperBound)))
        #expect(Self.hasPrefix("xref\n0 ", in: bytes, at: tableOffset))
        let subsection = Self.line(in: bytes, at: tableOffset + 5)
        let count = try #require(Int(subsection.split(separator: " ")[1]))
        // Catalog, page tree, information, resources, two fonts, and a page and a content stream for each of the 2 pages.
        #expect(count == 11)
        let entries = tableOffset + 5 + subsection.utf8.count + 1
        #expect(String(decoding: bytes[entries..<entries + 20], as: UTF8.self) == "0000000000 65535 f \n")
        for number in 1..<count {
            let entry = String(decoding: bytes[entries + 20 * number..<entries + 20 * (number + 1)], as: UTF8.self)
            #expect(entry.utf8.count == 20 && entry.hasSuffix(" 00000 n \n"), "entry \(number): \(entry)")
            let digits = entry.prefix(10)
            #expect(digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber), "entry \(number): \(entry)")
            let offset = try #require(Int(digits))
            #expect(Self.hasPrefix("\(number) 0 obj\n", in: bytes, at: offset), "object \(number) is not at \(offset)")
        }
        #expect(Self.hasPrefix("trailer\n<< /Size \(count) /Root 1 0 R /Info 3 0 R >>\nstartxref\n", in: bytes, at: entries + 20 * count))

        var streams = 0
        var searchFrom = 0
        while let length = Self.range(of: "<< /Length ", in: bytes, from: searchFrom) {
            let declared = try #require(Int(Self.line(in: bytes, at: length.upperBound).prefix { $0.isNumber }))
            let start = try #require(Self.range(of: ">>\nstream\n", in: bytes, from: length.upperBound)).upperBound
            #expect(Self.hasPrefix("\nendstream\nendobj\n", in: bytes, at: start + declared), "stream \(streams) is not \(declared) bytes long")
            streams += 1
            searchFrom = start + declared
        }
        #expect(streams == 2)
    }

    @Test("fonts are declared once and shared by every page; a document without pages gets one blank A4 page")
    func sharedFonts() {
        var document = PDFDocument(title: "Three pages")
        for _ in 0..<3 {
            var page = PDFPage()
            page.text("Regular", x: 10, y: 10, size: 10)
            page.text("Bold", x: 10, y: 30, size: 10, font: .bold)
            document.addPage(page)
        }
        let text = String(decoding: document.rendered(), as: UTF8.self)
        #expect(text.components(separatedBy: "/Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding").count == 2)
        #expect(text.components(separatedBy: "/Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding").count == 2)
        #expect(text.components(separatedBy: "/Resources 4 0 R").count == 4)
        #expect(text.contains("<< /Font << /F1 5 0 R /F2 6 0 R >> >>"))
        #expect(text.contains("/Count 3"))

        let empty = String(decoding: PDFDocument(title: "Empty").rendered(), as: UTF8.self)
        #expect(empty.contains("/Kids [7 0 R] /Count 1"))
        #expect(empty.contains("/MediaBox [0 0 595.28 841.89]"))
    }

    @Test("the same input gives the same bytes; the information dictionary is UTF-16BE hex and the date is UTC")
    func deterministicInformation() {
        let date = Date(timeIntervalSince1970: 1_718_000_000)  // 2024-06-10 06:13:20 UTC
        var document = PDFDocument(title: "Più €", author: "Sala", language: "it", creationDate: date)
        var page = PDFPage()
        page.text("Ciao", x: 72, y: 72, size: 12)
        document.addPage(page)
        #expect(document.rendered() == document.rendered())
        let text = String(decoding: document.rendered(), as: UTF8.self)
        #expect(text.contains("/Title <FEFF0050006900F9002020AC>"))
        #expect(text.contains("/Author <FEFF00530061006C0061>"))
        #expect(text.contains("/Producer <FEFF005400750072006E006F>"))
        #expect(text.contains("/CreationDate (D:20240610061320Z)"))
        #expect(text.contains("/Lang (it)"))
        let undated = String(decoding: PDFDocument(title: "x").rendered(), as: UTF8.self)
        #expect(!undated.contains("/CreationDate"))
    }

    @Test("characters map to WinAnsi bytes, anything else is one '?' per character")
    func winAnsi() {
        #expect(WinAnsi.encode("àèéìòù") == [0xE0, 0xE8, 0xE9, 0xEC, 0xF2, 0xF9])
        #expect(WinAnsi.encode("€’—–“”•…") == [0x80, 0x92, 0x97, 0x96, 0x93, 0x94, 0x95, 0x85])
        #expect(
            WinAnsi.encode("ŠšŒœŽžŸƒ‚„†‡ˆ‰‹›‘˜™") == [
                0x8A, 0x9A, 0x8C, 0x9C, 0x8E, 0x9E, 0x9F, 0x83, 0x82, 0x84, 0x86, 0x87, 0x88, 0x89, 0x8B, 0x9B, 0x91, 0x98, 0x99,
            ]
        )
        #expect(WinAnsi.encode("A ~\u{A0}ÿ") == [0x41, 0x20, 0x7E, 0xA0, 0xFF])
        #expect(WinAnsi.encode("漢") == [0x3F])
        // One grapheme, several scalars: a single '?'.
        #expect(WinAnsi.encode("👍🏽") == [0x3F])
        // A decomposed é is still é.
        #expect(WinAnsi.encode("e\u{301}") == [0xE9])
        // Control characters, and C1 codes that are not the characters CP1252 puts there.
        #expect(WinAnsi.encode("\u{7}\t\u{7F}\u{80}\u{81}") == [0x3F, 0x3F, 0x3F, 0x3F, 0x3F])
    }

    @Test("literal strings escape parentheses and backslashes, and write other non-printable bytes in octal")
    func escaping() {
        let literal = String(decoding: PDFSyntax.literal(WinAnsi.encode("a(b)c\\d é€")), as: UTF8.self)
        #expect(literal == #"(a\(b\)c\\d \351\200)"#)
        #expect(String(decoding: PDFSyntax.literal([0x00, 0x0A, 0x7F]), as: UTF8.self) == #"(\000\012\177)"#)
    }

    @Test("numbers have at most three decimals, no exponent and no negative zero")
    func numbers() {
        let cases: [(Double, String)] = [
            (0, "0"), (-0.0, "0"), (-0.0004, "0"), (1, "1"), (0.5, "0.5"), (595.28, "595.28"), (841.89, "841.89"),
            (-3.14159, "-3.142"), (0.05, "0.05"), (1e-9, "0"), (12_345_678, "12345678"), (1e20, "1000000000000"),
            (.nan, "0"), (.infinity, "0"),
        ]
        for (value, expected) in cases {
            #expect(PDFSyntax.number(value) == expected, "\(value)")
        }
    }

    @Test("pages draw in top-left coordinates, text alignment uses measured widths, colours come from hex")
    func drawing() throws {
        let blue = try #require(PDFColor(hex: "#1f6feb"))
        var page = PDFPage()
        page.text("A", x: 100, y: 100, size: 10)
        page.text("A", x: 100, y: 100, size: 10, alignment: .right)
        page.text("A", x: 100, y: 100, size: 10, font: .bold, color: .gray(0.5), alignment: .center)
        page.line(from: PDFPoint(x: 0, y: 0), to: PDFPoint(x: 10, y: 20), width: 0.5, color: .white)
        page.rectangle(x: 10, y: 20, width: 30, height: 40, fill: blue)
        page.rectangle(x: 10, y: 20, width: 30, height: 40, fill: nil, stroke: .black, lineWidth: 2)
        page.rectangle(x: 10, y: 20, width: 30, height: 40, fill: nil)
        page.polyline([PDFPoint(x: 0, y: 0), PDFPoint(x: 1, y: 1)], width: 1, color: .black)
        page.polygon([PDFPoint(x: 0, y: 0), PDFPoint(x: 1, y: 0), PDFPoint(x: 1, y: 1)], fill: .black)
        page.polyline([PDFPoint(x: 0, y: 0)], width: 1, color: .black)
        page.polygon([PDFPoint(x: 0, y: 0), PDFPoint(x: 1, y: 0)], fill: .black)
        page.text("", x: 0, y: 0, size: 10)
        let expected = """
            BT /F1 10 Tf 0 0 0 rg 100 741.89 Td (A) Tj ET
            BT /F1 10 Tf 0 0 0 rg 93.33 741.89 Td (A) Tj ET
            BT /F2 10 Tf 0.5 0.5 0.5 rg 96.39 741.89 Td (A) Tj ET
            0.5 w 1 1 1 RG 0 841.89 m 10 821.89 l S
            0.122 0.435 0.922 rg 10 781.89 30 40 re f
            2 w 0 0 0 RG 10 781.89 30 40 re S
            q 1 J 1 j 1 w 0 0 0 RG 0 841.89 m 1 840.89 l S Q
            0 0 0 rg 0 841.89 m 1 841.89 l 1 840.89 l h f

            """
        #expect(String(decoding: page.content, as: UTF8.self) == expected)

        #expect(PDFColor(hex: "fff") == PDFColor.white)
        #expect(PDFColor(hex: "#000000") == PDFColor.black)
        for bad in ["", "#12345", "#12345g", "+12345", "#-12345", "1f6feb00"] {
            #expect(PDFColor(hex: bad) == nil, "\(bad)")
        }
        #expect(PDFColor(red: 2, green: -1, blue: .nan) == PDFColor(red: 1, green: 0, blue: 0))
    }

    @Test("widths are Adobe's AFM widths; characters outside WinAnsi measure as '?'")
    func widths() {
        #expect(PDFText.width(of: "A", font: .regular, size: 1000) == 667)
        #expect(PDFText.width(of: " ", font: .regular, size: 1000) == 278)
        #expect(PDFText.width(of: "A", font: .bold, size: 1000) == 722)
        #expect(PDFText.width(of: "Hello", font: .regular, size: 1000) == 722 + 556 + 222 + 222 + 556)
        #expect(PDFText.width(of: "Hello", font: .bold, size: 1000) == 722 + 556 + 278 + 278 + 611)
        #expect(PDFText.width(of: "@€…Æ", font: .regular, size: 1000) == 1015 + 556 + 1000 + 1000)
        #expect(PDFText.width(of: "@ß", font: .bold, size: 1000) == 975 + 611)
        #expect(abs(PDFText.width(of: "A", font: .regular, size: 10) - 6.67) < 1e-9)
        #expect(PDFText.width(of: "漢", font: .regular, size: 12) == PDFText.width(of: "?", font: .regular, size: 12))
        #expect(PDFText.width(of: "", font: .bold, size: 12) == 0)
    }

    @Test("wrapping is greedy, keeps every word, and never exceeds the width")
    func wrapping() {
        let text =
            "Il tempo di attesa mediano è stato più breve del previsto: l’ufficio ha servito 128 clienti, con un’attesa di 4 minuti. "
            + "Precipitevolissimevolmente è una parola lunghissima."
        let words = text.split(separator: " ").map(String.init)
        for font in PDFFont.allCases {
            let longestWord = words.map { PDFText.width(of: $0, font: font, size: 10) }.max() ?? 0
            for width in [40.0, 80, 150, 300, 1000] {
                let lines = PDFText.wrapped(text, font: font, size: 10, width: width)
                for line in lines {
                    #expect(PDFText.width(of: line, font: font, size: 10) <= width, "\(width): \(line)")
                    #expect(!line.hasPrefix(" ") && !line.hasSuffix(" "))
                }
                // Greedy: the next line's first word would not have fitted on the line before. (A word too long for any line
                // starts a line of its own before it is cut, so its first piece is not a word of the text.)
                for (line, next) in zip(lines, lines.dropFirst()) {
                    let firstWord = String(next.prefix { $0 != " " })
                    guard words.contains(firstWord) else { continue }
                    #expect(PDFText.width(of: line + " " + firstWord, font: font, size: 10) > width, "\(width): \(line) | \(next)")
                }
                if longestWord <= width {
                    #expect(lines.joined(separator: " ") == words.joined(separator: " "))
                } else {
                    // Narrow enough that the long word is cut: no characters are lost.
                    #expect(lines.joined().filter { $0 != " " } == text.filter { $0 != " " })
                }
            }
        }
        #expect(PDFText.wrapped("one two", font: .regular, size: 10, width: 1000) == ["one two"])
        #expect(PDFText.wrapped("a\n\nb", font: .regular, size: 10, width: 1000) == ["a", "", "b"])
        #expect(PDFText.wrapped("", font: .regular, size: 10, width: 1000) == [""])
        // A no-break space holds the amount together.
        let amount = PDFText.wrapped("Totale €\u{A0}12,50", font: .regular, size: 10, width: PDFText.width(of: "Totale €", font: .regular, size: 10))
        #expect(amount == ["Totale", "€\u{A0}12,50"])
    }

    @Test("truncation keeps what fits and ends with an ellipsis")
    func truncation() {
        let text = "Tempo di attesa mediano"
        #expect(PDFText.truncated(text, font: .regular, size: 10, width: 500) == text)
        for width in [20.0, 45, 60, 100] {
            let cut = PDFText.truncated(text, font: .bold, size: 10, width: width)
            #expect(cut.hasSuffix("…") && cut.count > 1)
            #expect(PDFText.width(of: cut, font: .bold, size: 10) <= width, "\(width): \(cut)")
            #expect(text.hasPrefix(cut.dropLast()))
            #expect(!cut.dropLast().hasSuffix(" "))
        }
        // Exactly what fits: "Tempo di" (no space) plus the ellipsis.
        let width = PDFText.width(of: "Tempo di …", font: .regular, size: 10)
        #expect(PDFText.truncated(text, font: .regular, size: 10, width: width) == "Tempo di…")
        #expect(PDFText.truncated(text, font: .regular, size: 10, width: 1) == "")
    }

    @Test("poppler reads the file: two A4 pages, the title, and the English and Italian text")
    func popplerReadsText() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("report.pdf")
        try Data(Self.sampleDocument().rendered()).write(to: file)

        let info = try Self.run("pdfinfo", [file.path])
        #expect(info.status == 0)
        #expect(info.errors.isEmpty, "pdfinfo complained: \(info.errors)")
        #expect(info.output.contains("Pages:           2"))
        #expect(info.output.contains("Page size:       595.28 x 841.89 pts (A4)"))
        #expect(info.output.contains("Title:           Rapporto settimanale — più"))
        #expect(info.output.contains("Producer:        Turno"))
        #expect(info.output.contains("PDF version:     1.7"))

        let textFile = directory.appendingPathComponent("report.txt")
        let text = try Self.run("pdftotext", ["-layout", "-enc", "UTF-8", file.path, textFile.path])
        #expect(text.status == 0)
        #expect(text.errors.isEmpty, "pdftotext complained: \(text.errors)")
        let pages = String(decoding: try Data(contentsOf: textFile), as: UTF8.self).split(separator: "\u{0C}", omittingEmptySubsequences: false)
        #expect(pages.count >= 2)
        let first = pages.first.map(String.init) ?? ""
        let second = pages.dropFirst().first.map(String.init) ?? ""
        for expected in ["Weekly report", "Tempo di attesa mediano", "più", "€ 12,50", "“citazione” – l’ufficio — • ok", "(a) \\ [b]", "Right"] {
            #expect(first.contains(expected), "page 1 lacks \(expected): \(first)")
        }
        #expect(second.contains("Seconda pagina: è già così"))
        #expect(!second.contains("Weekly report"))
    }

    @Test("pdftoppm renders the first page")
    func popplerRenders() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("report.pdf")
        try Data(Self.sampleDocument().rendered()).write(to: file)
        let prefix = directory.appendingPathComponent("page")
        let render = try Self.run("pdftoppm", ["-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile", file.path, prefix.path])
        #expect(render.status == 0)
        #expect(render.errors.isEmpty, "pdftoppm complained: \(render.errors)")
        let image = try Data(contentsOf: prefix.appendingPathExtension("png"))
        #expect(image.count > 1000)
        #expect(image.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    }

    // MARK: - Helpers

    /// Two pages with every kind of drawing, in English and Italian.
    static func sampleDocument() -> PDFDocument {
        var document = PDFDocument(
            title: "Rapporto settimanale — più",
            language: "it",
            creationDate: Date(timeIntervalSince1970: 1_718_000_000)
        )
        var first = PDFPage()
        first.text("Weekly report", x: 56, y: 72, size: 20, font: .bold)
        first.text("Tempo di attesa mediano", x: 56, y: 110, size: 12)
        first.text("più", x: 56, y: 130, size: 12)
        first.text("€ 12,50", x: 539, y: 130, size: 12, alignment: .right)
        first.text("“citazione” – l’ufficio — • ok", x: 56, y: 150, size: 12)
        first.text("(a) \\ [b]", x: 56, y: 170, size: 12)
        first.text("Right", x: 539, y: 190, size: 10, color: .gray(0.4), alignment: .right)
        first.line(from: PDFPoint(x: 56, y: 200), to: PDFPoint(x: 539, y: 200), width: 0.5, color: .gray(0.6))
        first.rectangle(x: 56, y: 220, width: 200, height: 100, fill: PDFColor(hex: "#1f6feb"), stroke: .black, lineWidth: 1.5)
        let chart = [PDFPoint(x: 300, y: 320), PDFPoint(x: 350, y: 260), PDFPoint(x: 400, y: 290), PDFPoint(x: 450, y: 230)]
        first.polygon(chart + [PDFPoint(x: 450, y: 320)], fill: PDFColor(red: 0.8, green: 0.9, blue: 1))
        first.polyline(chart, width: 2, color: PDFColor(red: 0.1, green: 0.4, blue: 0.9))
        document.addPage(first)
        var second = PDFPage()
        second.text("Seconda pagina: è già così", x: 56, y: 72, size: 12)
        document.addPage(second)
        return document
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("turno-pdf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Runs a poppler tool found on the PATH (or in /usr/bin), with its output and errors captured through files so a
    /// full pipe cannot block it. A missing tool fails the test: CI installs poppler-utils.
    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = (path.split(separator: ":").map(String.init) + ["/usr/bin", "/opt/homebrew/bin", "/usr/local/bin"]).map { "\($0)/\(tool)" }
        let executable = try #require(
            candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
            "\(tool) is missing: install poppler-utils (apt-get install poppler-utils, or brew install poppler)"
        )
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputFile = directory.appendingPathComponent("stdout")
        let errorFile = directory.appendingPathComponent("stderr")
        try Data().write(to: outputFile)
        try Data().write(to: errorFile)
        let output = try FileHandle(forWritingTo: outputFile)
        let errors = try FileHandle(forWritingTo: errorFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        try output.close()
        try errors.close()
        return (
            process.terminationStatus,
            String(decoding: try Data(contentsOf: outputFile), as: UTF8.self),
            String(decoding: try Data(contentsOf: errorFile), as: UTF8.self)
        )
    }

    static func range(of pattern: String, in bytes: [UInt8], from start: Int = 0) -> Range<Int>? {
        let needle = Array(pattern.utf8)
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        for index in start...(bytes.count - needle.count) where bytes[index..<index + needle.count].elementsEqual(needle) {
            return index..<index + needle.count
        }
        return nil
    }

    static func lastRange(of pattern: String, in bytes: [UInt8]) -> Range<Int>? {
        let needle = Array(pattern.utf8)
        guard bytes.count >= needle.count else { return nil }
        for index in stride(from: bytes.count - needle.count, through: 0, by: -1) where bytes[index..<index + needle.count].elementsEqual(needle) {
            return index..<index + needle.count
        }
        return nil
    }

    static func hasPrefix(_ pattern: String, in bytes: [UInt8], at offset: Int) -> Bool {
        let needle = Array(pattern.utf8)
        return offset >= 0 && offset + needle.count <= bytes.count && bytes[offset..<offset + needle.count].elementsEqual(needle)
    }

    /// The bytes from `offset` to the next line feed, as text.
    static func line(in bytes: [UInt8], at offset: Int) -> String {
        let end = bytes[offset...].firstIndex(of: 0x0A) ?? bytes.count
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }
}
