import Foundation
import TurnoCore

/// The words of a report's PDF, in English or Italian (a branch's language picks them; others fall back to English).
struct ReportWords: Sendable {
    var language: String
    var title: String
    var groupedBy: [ReportGrouping: String]
    var weekdays: [String]
    var total: String
    var generated: String
    var issued: String
    var served: String
    var noShows: String
    var cancelled: String
    var waitP50: String
    var waitP90: String
    var withinTarget: String
    var serviceP50: String
    var utilisation: String
    var rating: String
    var complaints: String
    var servedChart: String
    var waitChart: String
    var page: String
    var nothing: String

    static let english = ReportWords(
        language: "en",
        title: "Report",
        groupedBy: [
            .day: "by day", .hour: "by hour of day", .weekday: "by weekday", .service: "by service", .counter: "by counter", .operator: "by staff member",
        ],
        weekdays: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        total: "Total",
        generated: "Generated",
        issued: "Issued",
        served: "Served",
        noShows: "No-shows",
        cancelled: "Cancelled",
        waitP50: "Wait p50",
        waitP90: "Wait p90",
        withinTarget: "Within target",
        serviceP50: "Service p50",
        utilisation: "Utilisation",
        rating: "Rating",
        complaints: "Complaints",
        servedChart: "Issued and served",
        waitChart: "Wait, median and 90th percentile",
        page: "Page",
        nothing: "Nothing happened in this range."
    )

    static let italian = ReportWords(
        language: "it",
        title: "Rapporto",
        groupedBy: [
            .day: "per giorno", .hour: "per ora del giorno", .weekday: "per giorno della settimana", .service: "per servizio", .counter: "per sportello",
            .operator: "per operatore",
        ],
        weekdays: ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"],
        total: "Totale",
        generated: "Generato il",
        issued: "Emessi",
        served: "Serviti",
        noShows: "Assenti",
        cancelled: "Annullati",
        waitP50: "Attesa p50",
        waitP90: "Attesa p90",
        withinTarget: "Entro l’obiettivo",
        serviceP50: "Servizio p50",
        utilisation: "Utilizzo",
        rating: "Voto",
        complaints: "Reclami",
        servedChart: "Emessi e serviti",
        waitChart: "Attesa, mediana e 90° percentile",
        page: "Pagina",
        nothing: "Nulla è successo in questo periodo."
    )

    /// `4:05` for four minutes and five seconds, `1:02:03` past the hour; an en dash for none.
    func duration(_ seconds: Int64?) -> String {
        guard let seconds else { return "–" }
        let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }

    func percent(_ ratio: Double?) -> String {
        ratio.map { "\(Int(($0 * 100).rounded())) %" } ?? "–"
    }

    /// `4.3` or, in Italian, `4,3`.
    func decimal(_ value: Double?) -> String {
        guard let value else { return "–" }
        let text = String(format: "%.1f", value)
        return language == "it" ? text.replacingOccurrences(of: ".", with: ",") : text
    }

    /// A row's label in these words: weekdays are named, the rest kept.
    func label(_ row: ReportRowView, grouping: ReportGrouping) -> String {
        guard grouping == .weekday, let day = Int(row.key), (1...7).contains(day) else { return row.label }
        return weekdays[day - 1]
    }
}

extension ReportWords {
    /// Italian for a language tag that starts with `it`, else English. (In an extension, so the struct keeps its
    /// memberwise initializer for the two tables above.)
    init(_ language: String) {
        self = language.lowercased().hasPrefix("it") ? .italian : .english
    }
}

/// A report as an A4 PDF: the totals, two vector charts and the table of rows, continued over as many pages as it
/// takes.
enum ReportPDF {
    static let margin = 40.0
    static let accent = PDFColor(red: 0.12, green: 0.44, blue: 0.82)
    static let light = PDFColor(red: 0.62, green: 0.77, blue: 0.95)
    static let warm = PDFColor(red: 0.85, green: 0.45, blue: 0.1)

    static func document(_ report: ReportView, words: ReportWords, generatedAtMs: Int64) -> [UInt8] {
        let branchNames = report.branches.map(\.name).joined(separator: ", ")
        var document = PDFDocument(title: "\(words.title) \(branchNames) \(report.from) – \(report.to)", language: words.language)
        var page = PDFPage()
        let width = page.width - 2 * margin
        var y = margin + 16
        page.text("\(words.title) · \(branchNames)", x: margin, y: y, size: 18, font: .bold)
        y += 18
        let range = report.from == report.to ? report.from : "\(report.from) – \(report.to)"
        page.text("\(range), \(words.groupedBy[report.group] ?? "")", x: margin, y: y, size: 11, color: .gray(0.3))
        page.text(
            "\(words.generated) \(Timestamp.format(milliseconds: generatedAtMs).prefix(16).replacingOccurrences(of: "T", with: " ")) UTC",
            x: margin + width,
            y: y,
            size: 8,
            color: .gray(0.45),
            alignment: .right
        )
        y += 22
        y = tiles(report.total, words: words, on: &page, top: y, width: width)
        if report.rows.isEmpty {
            page.text(words.nothing, x: margin, y: y + 20, size: 11)
        } else {
            y = servedChart(report, words: words, on: &page, top: y + 10, width: width)
            y = waitChart(report, words: words, on: &page, top: y + 10, width: width)
            table(report, words: words, document: &document, page: &page, top: y + 16, width: width)
        }
        document.addPage(page)
        return document.rendered()
    }

    /// The totals as a row of labelled figures.
    private static func tiles(_ total: ReportRowView, words: ReportWords, on page: inout PDFPage, top: Double, width: Double) -> Double {
        let figures: [(String, String)] = [
            (words.issued, total.issued.map(String.init) ?? "–"), (words.served, String(total.served)), (words.noShows, String(total.noShows)),
            (words.cancelled, String(total.cancelled)), (words.waitP50, words.duration(total.waitP50S)), (words.waitP90, words.duration(total.waitP90S)),
            (words.withinTarget, words.percent(total.withinTargetShare)), (words.serviceP50, words.duration(total.serviceP50S)),
            (words.utilisation, words.percent(total.utilisation)),
            (words.rating, total.ratingMean.map { "\(words.decimal($0)) (\(total.ratingCount))" } ?? "–"),
        ]
        let columns = 5
        let tileWidth = width / Double(columns)
        for (index, (label, value)) in figures.enumerated() {
            let x = margin + Double(index % columns) * tileWidth
            let y = top + Double(index / columns) * 40
            page.rectangle(x: x + 2, y: y, width: tileWidth - 4, height: 36, fill: .gray(0.95))
            page.text(label, x: x + 8, y: y + 12, size: 7.5, color: .gray(0.35))
            page.text(value, x: x + 8, y: y + 29, size: 13, font: .bold)
        }
        return top + Double((figures.count + columns - 1) / columns) * 40
    }

    /// Bars of the tickets served per row, with the issued ones behind them.
    private static func servedChart(_ report: ReportView, words: ReportWords, on page: inout PDFPage, top: Double, width: Double) -> Double {
        let height = 120.0
        page.text(words.servedChart, x: margin, y: top + 10, size: 10, font: .bold)
        let chartTop = top + 18
        // Rounded up to a multiple of four, so every grid line falls on a whole number.
        let largest = (max(report.rows.map { max($0.issued ?? 0, $0.served) }.max() ?? 0, 1) + 3) / 4 * 4
        axis(on: &page, top: chartTop, height: height, width: width, largest: Double(largest), format: { String(Int($0)) })
        let slot = width / Double(report.rows.count)
        // Bars stay slim when there are few rows.
        let (wide, narrow) = (min(slot * 0.8, 36), min(slot * 0.5, 22))
        for (index, row) in report.rows.enumerated() {
            let middle = margin + (Double(index) + 0.5) * slot
            if let issued = row.issued, issued > 0 {
                let h = height * Double(issued) / Double(largest)
                page.rectangle(x: middle - wide / 2, y: chartTop + height - h, width: wide, height: h, fill: light)
            }
            if row.served > 0 {
                let h = height * Double(row.served) / Double(largest)
                page.rectangle(x: middle - narrow / 2, y: chartTop + height - h, width: narrow, height: h, fill: accent)
            }
        }
        xLabels(report, words: words, on: &page, top: chartTop + height, width: width)
        return chartTop + height + 14
    }

    /// Lines of the median and 90th-percentile wait per row.
    private static func waitChart(_ report: ReportView, words: ReportWords, on page: inout PDFPage, top: Double, width: Double) -> Double {
        let height = 100.0
        page.text(words.waitChart, x: margin, y: top + 10, size: 10, font: .bold)
        let chartTop = top + 18
        // Rounded up so the grid lines fall on whole minutes (quarter minutes for short waits).
        let longest = max(report.rows.compactMap(\.waitP90S).max() ?? 0, 60)
        let step: Int64 = longest >= 240 ? 240 : 60
        let largest = Double((longest + step - 1) / step * step)
        axis(on: &page, top: chartTop, height: height, width: width, largest: largest, format: { words.duration(Int64($0)) })
        let slot = width / Double(report.rows.count)
        for (values, color) in [(report.rows.map(\.waitP90S), warm), (report.rows.map(\.waitP50S), accent)] {
            var run: [PDFPoint] = []
            for (index, value) in values.enumerated() {
                guard let value else {
                    page.polyline(run, width: 1.5, color: color)
                    run = []
                    continue
                }
                let point = PDFPoint(x: margin + (Double(index) + 0.5) * slot, y: chartTop + height - height * Double(value) / largest)
                run.append(point)
                page.rectangle(x: point.x - 1.5, y: point.y - 1.5, width: 3, height: 3, fill: color)
            }
            page.polyline(run, width: 1.5, color: color)
        }
        xLabels(report, words: words, on: &page, top: chartTop + height, width: width)
        return chartTop + height + 14
    }

    private static func axis(on page: inout PDFPage, top: Double, height: Double, width: Double, largest: Double, format: (Double) -> String) {
        for step in 0...4 {
            let y = top + height - height * Double(step) / 4
            page.line(from: PDFPoint(x: margin, y: y), to: PDFPoint(x: margin + width, y: y), width: 0.4, color: .gray(step == 0 ? 0.4 : 0.85))
            page.text(format(largest * Double(step) / 4), x: margin - 3, y: y + 2.5, size: 6.5, color: .gray(0.4), alignment: .right)
        }
    }

    /// Row labels under a chart, thinned out so they do not overlap.
    private static func xLabels(_ report: ReportView, words: ReportWords, on page: inout PDFPage, top: Double, width: Double) {
        let slot = width / Double(report.rows.count)
        let labels = report.rows.map { shortLabel($0, grouping: report.group, words: words) }
        let widest = labels.map { PDFText.width(of: $0, font: .regular, size: 6.5) }.max() ?? 0
        let every = max(Int(((widest + 4) / slot).rounded(.up)), 1)
        for (index, label) in labels.enumerated() where index % every == 0 {
            page.text(label, x: margin + (Double(index) + 0.5) * slot, y: top + 9, size: 6.5, color: .gray(0.35), alignment: .center)
        }
    }

    private static func shortLabel(_ row: ReportRowView, grouping: ReportGrouping, words: ReportWords) -> String {
        switch grouping {
        case .day: String(row.key.suffix(5))
        case .weekday: String(words.label(row, grouping: grouping).prefix(3))
        default: PDFText.truncated(row.label, font: .regular, size: 6.5, width: 60)
        }
    }

    /// The rows as a table, continued on new pages with the header repeated.
    private static func table(_ report: ReportView, words: ReportWords, document: inout PDFDocument, page: inout PDFPage, top: Double, width: Double) {
        let headers = [
            "", words.issued, words.served, words.noShows, words.cancelled, words.waitP50, words.waitP90, words.withinTarget, words.serviceP50,
            words.utilisation, words.rating,
        ]
        let firstColumn = width * 0.22
        let column = (width - firstColumn) / Double(headers.count - 1)
        let rowHeight = 13.0
        var y = top
        var pageNumber = 1
        // Headers wrap onto two lines rather than lose their ends.
        func header() {
            for (index, text) in headers.enumerated() where index > 0 {
                let right = margin + firstColumn + Double(index) * column - 2
                let lines = PDFText.wrapped(text, font: .bold, size: 7, width: column - 4).prefix(2)
                for (offset, line) in lines.reversed().enumerated() {
                    page.text(line, x: right, y: y + 8 - Double(offset) * 8, size: 7, font: .bold, alignment: .right)
                }
            }
            page.line(from: PDFPoint(x: margin, y: y + 12), to: PDFPoint(x: margin + width, y: y + 12), width: 0.6, color: .gray(0.4))
            y += rowHeight + 10
        }
        func cells(_ row: ReportRowView) -> [String] {
            [
                words.label(row, grouping: report.group), row.issued.map(String.init) ?? "–", String(row.served), String(row.noShows), String(row.cancelled),
                words.duration(row.waitP50S), words.duration(row.waitP90S), words.percent(row.withinTargetShare), words.duration(row.serviceP50S),
                words.percent(row.utilisation), words.decimal(row.ratingMean),
            ]
        }
        header()
        for (index, row) in (report.rows + [report.total]).enumerated() {
            if y > page.height - margin - rowHeight {
                footer(on: &page, number: pageNumber, words: words)
                document.addPage(page)
                page = PDFPage()
                pageNumber += 1
                y = margin + 10
                header()
            }
            let isTotal = index == report.rows.count
            if isTotal { page.line(from: PDFPoint(x: margin, y: y - 9), to: PDFPoint(x: margin + width, y: y - 9), width: 0.6, color: .gray(0.4)) }
            if index % 2 == 1 { page.rectangle(x: margin, y: y - 9, width: width, height: rowHeight, fill: .gray(0.96)) }
            let font: PDFFont = isTotal ? .bold : .regular
            for (position, text) in cells(
                isTotal
                    ? {
                        var total = row
                        total.label = words.total
                        return total
                    }() : row
            ).enumerated() {
                if position == 0 {
                    page.text(PDFText.truncated(text, font: font, size: 7.5, width: firstColumn - 4), x: margin, y: y, size: 7.5, font: font)
                } else {
                    page.text(text, x: margin + firstColumn + Double(position) * column - 2, y: y, size: 7.5, font: font, alignment: .right)
                }
            }
            y += rowHeight
        }
        if pageNumber > 1 { footer(on: &page, number: pageNumber, words: words) }
    }

    private static func footer(on page: inout PDFPage, number: Int, words: ReportWords) {
        page.text("\(words.page) \(number)", x: page.width - margin, y: page.height - 20, size: 7, color: .gray(0.45), alignment: .right)
    }
}
