import Foundation

/// A QR code symbol (ISO/IEC 18004) encoding a string in byte mode at error correction level M.
///
/// Only versions 1…10 are produced: the links the server encodes are short, and small symbols stay easy to scan
/// from a phone.
public struct QRCode: Sendable {
    /// Thrown when the UTF-8 text does not fit in a version 10-M symbol (213 bytes).
    public struct TooLong: Error, Sendable, Equatable {
        /// The UTF-8 length of the rejected text.
        public let byteCount: Int
        /// The largest number of bytes that can be encoded.
        public let capacity: Int
    }

    /// The symbol version, 1…10.
    public let version: Int
    /// The number of modules on each side, 17 + 4 × version.
    public let size: Int
    /// The data mask pattern applied, 0…7.
    public let mask: Int
    /// Row-major module colours, `true` for dark.
    private let modules: [Bool]

    /// Encodes `text` as UTF-8 bytes in the smallest version that holds it, choosing the mask with the lowest penalty.
    ///
    /// - Throws: ``TooLong`` if the text needs more than a version 10-M symbol.
    public init(encoding text: String) throws(QRCode.TooLong) {
        try self.init(encoding: text, mask: nil)
    }

    /// Encodes `text` with the given mask, or with the lowest-penalty mask when `forcedMask` is nil.
    ///
    /// Forcing a mask lets tests compare every candidate against a reference encoder.
    init(encoding text: String, mask forcedMask: Int?) throws(QRCode.TooLong) {
        let bytes = Array(text.utf8)
        guard let version = (1...10).first(where: { bytes.count <= Self.capacity(version: $0) }) else {
            throw TooLong(byteCount: bytes.count, capacity: Self.capacity(version: 10))
        }
        let codewords = Self.interleavedCodewords(Self.dataCodewords(bytes, version: version), version: version)
        var base = Grid(version: version)
        base.placeFunctionPatterns()
        base.placeData(codewords)

        let scored = (forcedMask.map { [$0] } ?? Array(0..<8)).map { candidate in
            var grid = base
            grid.applyMask(candidate)
            grid.placeFormatInfo(mask: candidate)
            // Scored after the format bits are drawn: they are part of the symbol a reader sees.
            return (mask: candidate, modules: grid.dark, penalty: Self.penalty(of: grid.dark, size: grid.size))
        }
        // Replacing only on a strictly lower penalty makes ties go to the lowest mask number.
        let best = scored.reduce(scored[0]) { $1.penalty < $0.penalty ? $1 : $0 }
        self.version = version
        self.size = base.size
        self.mask = best.mask
        self.modules = best.modules
    }

    /// Whether the module at column `x`, row `y` is dark; coordinates outside the symbol are light.
    public func isDark(x: Int, y: Int) -> Bool {
        guard (0..<size).contains(x), (0..<size).contains(y) else { return false }
        return modules[y * size + x]
    }

    /// A standalone SVG drawing of the symbol.
    ///
    /// The drawing is in module units (`viewBox` is the symbol plus the quiet zone on each side), so it scales
    /// without blurring; `width` and `height` are `moduleSize` pixels per module. Dark modules are merged into
    /// horizontal runs drawn by a single path, which keeps the markup small.
    ///
    /// - Parameters:
    ///   - moduleSize: Pixels per module for the `width` and `height` attributes.
    ///   - quietZone: Light margin, in modules, around the symbol; readers need at least 4.
    /// - Returns: The `<svg>` element as a string, with a white background and black modules.
    public func svg(moduleSize: Int = 4, quietZone: Int = 4) -> String {
        let side = size + 2 * quietZone
        let pixels = side * moduleSize
        var path = ""
        for y in 0..<size {
            var x = 0
            while x < size {
                guard isDark(x: x, y: y) else {
                    x += 1
                    continue
                }
                let start = x
                while x < size, isDark(x: x, y: y) { x += 1 }
                let run = x - start
                path += "M\(start + quietZone) \(y + quietZone)h\(run)v1h-\(run)z"
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(pixels)" height="\(pixels)" viewBox="0 0 \(side) \(side)" \
            shape-rendering="crispEdges"><rect width="\(side)" height="\(side)" fill="#fff"/>\
            <path fill="#000" d="\(path)"/></svg>
            """
    }
}

// MARK: - Data encoding

extension QRCode {
    /// Error correction block layout for level M: EC codewords per block and the (count, data codewords) groups.
    private struct BlockLayout {
        let ecPerBlock: Int
        let groups: [(blocks: Int, dataCodewords: Int)]

        var dataCodewords: Int { groups.reduce(0) { $0 + $1.blocks * $1.dataCodewords } }
    }

    /// ISO/IEC 18004 Table 9, level M, versions 1…10.
    private static func layout(version: Int) -> BlockLayout {
        switch version {
        case 1: BlockLayout(ecPerBlock: 10, groups: [(1, 16)])
        case 2: BlockLayout(ecPerBlock: 16, groups: [(1, 28)])
        case 3: BlockLayout(ecPerBlock: 26, groups: [(1, 44)])
        case 4: BlockLayout(ecPerBlock: 18, groups: [(2, 32)])
        case 5: BlockLayout(ecPerBlock: 24, groups: [(2, 43)])
        case 6: BlockLayout(ecPerBlock: 16, groups: [(4, 27)])
        case 7: BlockLayout(ecPerBlock: 18, groups: [(4, 31)])
        case 8: BlockLayout(ecPerBlock: 22, groups: [(2, 38), (2, 39)])
        case 9: BlockLayout(ecPerBlock: 22, groups: [(3, 36), (2, 37)])
        default: BlockLayout(ecPerBlock: 26, groups: [(4, 43), (1, 44)])
        }
    }

    /// Byte mode's character count field grows from 8 to 16 bits at version 10.
    private static func countBits(version: Int) -> Int { version < 10 ? 8 : 16 }

    /// The most bytes a version holds after the 4-bit mode indicator and the count field.
    private static func capacity(version: Int) -> Int {
        (layout(version: version).dataCodewords * 8 - 4 - countBits(version: version)) / 8
    }

    /// Mode indicator, count, data, terminator and padding, as the version's data codewords.
    private static func dataCodewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        let capacityBits = layout(version: version).dataCodewords * 8
        var bits = BitBuffer()
        bits.append(0b0100, count: 4)
        bits.append(bytes.count, count: countBits(version: version))
        for byte in bytes { bits.append(Int(byte), count: 8) }
        // The terminator is cut short when the data leaves fewer than 4 bits.
        bits.append(0, count: min(4, capacityBits - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var codewords = bits.bytes
        // Alternating pad codewords avoid long uniform runs in the data region.
        var pad: UInt8 = 0xEC
        while codewords.count * 8 < capacityBits {
            codewords.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return codewords
    }

    /// Splits data into blocks, appends each block's Reed–Solomon codewords and interleaves them column-wise,
    /// so a burst of damage spreads across blocks instead of exhausting one.
    private static func interleavedCodewords(_ data: [UInt8], version: Int) -> [UInt8] {
        let layout = layout(version: version)
        var dataBlocks: [[UInt8]] = []
        var offset = 0
        for group in layout.groups {
            for _ in 0..<group.blocks {
                dataBlocks.append(Array(data[offset..<offset + group.dataCodewords]))
                offset += group.dataCodewords
            }
        }
        let generator = ReedSolomon.generator(degree: layout.ecPerBlock)
        let ecBlocks = dataBlocks.map { ReedSolomon.remainder($0, generator: generator) }

        var result: [UInt8] = []
        let longest = dataBlocks.map(\.count).max() ?? 0
        for index in 0..<longest {
            for block in dataBlocks where index < block.count { result.append(block[index]) }
        }
        for index in 0..<layout.ecPerBlock {
            for block in ecBlocks { result.append(block[index]) }
        }
        return result
    }
}

/// Most-significant-bit-first bit accumulator.
private struct BitBuffer {
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0

    mutating func append(_ value: Int, count width: Int) {
        for shift in stride(from: width - 1, through: 0, by: -1) {
            if count % 8 == 0 { bytes.append(0) }
            if (value >> shift) & 1 == 1 { bytes[count / 8] |= 0x80 >> (count % 8) }
            count += 1
        }
    }
}

/// Reed–Solomon arithmetic over GF(256) with the QR field polynomial x⁸ + x⁴ + x³ + x² + 1 (0x11D).
private enum ReedSolomon {
    /// `exp[i]` is αⁱ; doubled in length so a product's log sum never needs reducing mod 255.
    static let exp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 512)
        var value = 1
        for index in 0..<512 {
            table[index] = UInt8(value)
            value <<= 1
            if value & 0x100 != 0 { value ^= 0x11D }
        }
        return table
    }()

    static let log: [Int] = {
        var table = [Int](repeating: 0, count: 256)
        for index in 0..<255 { table[Int(exp[index])] = index }
        return table
    }()

    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        a == 0 || b == 0 ? 0 : exp[log[Int(a)] + log[Int(b)]]
    }

    /// Coefficients of ∏(x − αⁱ) for i in 0..<degree, highest power first, leading 1 omitted.
    static func generator(degree: Int) -> [UInt8] {
        var poly: [UInt8] = [1]
        for index in 0..<degree {
            var next = [UInt8](repeating: 0, count: poly.count + 1)
            for (position, coefficient) in poly.enumerated() {
                next[position] ^= coefficient
                next[position + 1] ^= multiply(coefficient, exp[index])
            }
            poly = next
        }
        return Array(poly.dropFirst())
    }

    /// The remainder of data · x^degree divided by the generator: the block's error correction codewords.
    static func remainder(_ data: [UInt8], generator: [UInt8]) -> [UInt8] {
        var remainder = [UInt8](repeating: 0, count: generator.count)
        for byte in data {
            let factor = byte ^ remainder[0]
            remainder.removeFirst()
            remainder.append(0)
            for (index, coefficient) in generator.enumerated() {
                remainder[index] ^= multiply(coefficient, factor)
            }
        }
        return remainder
    }
}

// MARK: - Module placement

/// The module grid during construction, tracking which modules belong to function patterns so data and masking
/// skip them.
private struct Grid {
    let version: Int
    let size: Int
    var dark: [Bool]
    var reserved: [Bool]

    init(version: Int) {
        self.version = version
        self.size = 17 + 4 * version
        self.dark = Array(repeating: false, count: size * size)
        self.reserved = Array(repeating: false, count: size * size)
    }

    private mutating func set(_ x: Int, _ y: Int, _ isDark: Bool) {
        dark[y * size + x] = isDark
        reserved[y * size + x] = true
    }

    /// Centre coordinates of alignment patterns (ISO/IEC 18004 Annex E), versions 1…10.
    private var alignmentCentres: [Int] {
        switch version {
        case 1: []
        case 2...6: [6, 10 + 4 * version]
        case 7: [6, 22, 38]
        case 8: [6, 24, 42]
        case 9: [6, 26, 46]
        default: [6, 28, 50]
        }
    }

    mutating func placeFunctionPatterns() {
        for index in 0..<size {
            set(6, index, index % 2 == 0)
            set(index, 6, index % 2 == 0)
        }
        placeFinder(centreX: 3, centreY: 3)
        placeFinder(centreX: size - 4, centreY: 3)
        placeFinder(centreX: 3, centreY: size - 4)

        let centres = alignmentCentres
        for cx in centres {
            for cy in centres {
                // Skip the three positions that would overlap a finder pattern.
                let last = centres.count - 1
                if (cx == centres[0] && cy == centres[0]) || (cx == centres[0] && cy == centres[last])
                    || (cx == centres[last] && cy == centres[0])
                {
                    continue
                }
                for dy in -2...2 {
                    for dx in -2...2 {
                        set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1)
                    }
                }
            }
        }

        // Reserve the format areas now so data skips them; the real bits are drawn per mask.
        placeFormatInfo(mask: 0)
        if version >= 7 { placeVersionInfo() }
    }

    /// A 7×7 finder with its light separator, clipped to the symbol.
    private mutating func placeFinder(centreX: Int, centreY: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let x = centreX + dx
                let y = centreY + dy
                guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
                let ring = max(abs(dx), abs(dy))
                set(x, y, ring != 2 && ring != 4)
            }
        }
    }

    /// Format information: level M (00) and the mask, BCH(15,5)-protected and XORed with 0x5412 so it is never
    /// all light; drawn twice, around the top-left finder and split between the other two.
    mutating func placeFormatInfo(mask: Int) {
        let data = mask  // Level M's indicator is 00, so the five data bits are just the mask.
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = ((data << 10) | remainder) ^ 0x5412
        func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }

        for index in 0...5 { set(8, index, bit(index)) }
        set(8, 7, bit(6))
        set(8, 8, bit(7))
        set(7, 8, bit(8))
        for index in 9..<15 { set(14 - index, 8, bit(index)) }

        for index in 0..<8 { set(size - 1 - index, 8, bit(index)) }
        for index in 8..<15 { set(8, size - 15 + index, bit(index)) }
        // The dark module beside the bottom-left format copy is always dark.
        set(8, size - 8, true)
    }

    /// Version information (versions ≥ 7): the version, BCH(18,6)-protected, in two 6×3 blocks.
    private mutating func placeVersionInfo() {
        var remainder = version
        for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
        let bits = (version << 12) | remainder
        for index in 0..<18 {
            let isDark = (bits >> index) & 1 == 1
            let a = size - 11 + index % 3
            let b = index / 3
            set(a, b, isDark)
            set(b, a, isDark)
        }
    }

    /// Places codeword bits in two-column strips from the bottom-right, alternating upward and downward and
    /// skipping the vertical timing column; remainder modules stay light.
    mutating func placeData(_ codewords: [UInt8]) {
        var bitIndex = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            let upward = (right + 1) & 2 == 0
            for step in 0..<size {
                let y = upward ? size - 1 - step : step
                for x in [right, right - 1] where !reserved[y * size + x] && bitIndex < codewords.count * 8 {
                    dark[y * size + x] = (codewords[bitIndex / 8] >> (7 - bitIndex % 8)) & 1 == 1
                    bitIndex += 1
                }
            }
            right -= 2
        }
    }

    /// Flips the non-function modules selected by mask pattern `mask` (ISO/IEC 18004 Table 10).
    mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !reserved[y * size + x] {
                let flip =
                    switch mask {
                    case 0: (x + y) % 2 == 0
                    case 1: y % 2 == 0
                    case 2: x % 3 == 0
                    case 3: (x + y) % 3 == 0
                    case 4: (x / 3 + y / 2) % 2 == 0
                    case 5: (x * y) % 2 + (x * y) % 3 == 0
                    case 6: ((x * y) % 2 + (x * y) % 3) % 2 == 0
                    default: ((x + y) % 2 + (x * y) % 3) % 2 == 0
                    }
                if flip { dark[y * size + x].toggle() }
            }
        }
    }
}

// MARK: - Mask evaluation

extension QRCode {
    /// The ISO/IEC 18004 mask penalty of a row-major `size`×`size` matrix: the sum of the four rules.
    ///
    /// Rule 3 looks only inside the symbol (the quiet zone is not counted as light), and a 1:1:3:1:1 pattern with
    /// four light modules on both sides counts twice, once per side.
    static func penalty(of modules: [Bool], size: Int) -> Int {
        var total = 0
        // Rules 1 and 3 apply identically to rows and columns.
        for line in 0..<size {
            let row = (0..<size).map { modules[line * size + $0] }
            let column = (0..<size).map { modules[$0 * size + line] }
            total += runPenalty(row) + runPenalty(column) + finderLikePenalty(row) + finderLikePenalty(column)
        }
        // Rule 2: every 2×2 block of one colour, overlapping blocks counted separately.
        for y in 0..<size - 1 {
            for x in 0..<size - 1 {
                let colour = modules[y * size + x]
                if modules[y * size + x + 1] == colour, modules[(y + 1) * size + x] == colour,
                    modules[(y + 1) * size + x + 1] == colour
                {
                    total += 3
                }
            }
        }
        // Rule 4: 10 points for each full 5% step the dark proportion deviates from 50%.
        let darkCount = modules.count(where: \.self)
        let cells = size * size
        total += abs(darkCount * 20 - cells * 10) / cells * 10
        return total
    }

    /// Rule 1: a run of five or more same-coloured modules costs 3, plus 1 per module beyond five.
    private static func runPenalty(_ line: [Bool]) -> Int {
        var total = 0
        var runLength = 0
        for (index, module) in line.enumerated() {
            runLength = index > 0 && line[index - 1] == module ? runLength + 1 : 1
            let runEnds = index == line.count - 1 || line[index + 1] != module
            if runEnds, runLength >= 5 { total += runLength - 2 }
        }
        return total
    }

    /// Rule 3: dark-light-dark-dark-dark-light-dark preceded or followed by four light modules, which a reader
    /// could mistake for a finder pattern; 40 points each.
    private static let finderLike: [Bool] = [true, false, true, true, true, false, true, false, false, false, false]

    private static func finderLikePenalty(_ line: [Bool]) -> Int {
        guard line.count >= finderLike.count else { return 0 }
        let width = finderLike.count
        var total = 0
        for start in 0...(line.count - width) {
            let window = line[start..<start + width]
            if window.elementsEqual(finderLike) { total += 40 }
            if window.elementsEqual(finderLike.reversed()) { total += 40 }
        }
        return total
    }
}
