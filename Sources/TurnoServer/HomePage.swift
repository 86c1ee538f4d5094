import Hummingbird
import NIOCore
import TurnoCore

/// `/`: what this server runs and where each page is.
struct HomePage: Sendable {
    let modules: [any TurnoModule]

    func add(to router: Router<TurnoRequestContext>) {
        let links = homeLinks(modules: modules)
        let items = links.map { #"<li><a href="\#($0.path)">\#($0.title)</a></li>"# }.joined(separator: "\n")
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Turno</title></head>
            <body><main><h1>Turno \(TurnoVersion.current)</h1><p>Modules: \(modules.map(\.name).joined(separator: ", ")).</p>
            <ul>
            \(items)
            </ul></main></body></html>
            """
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }
    }
}
