// Reads a watch response in the background, splitting it into events at "\n", so a test can
// act on the cluster and then wait for the events it expects (with a deadline, no polling).

import AsyncHTTPClient
import LocalCluster
import NIOCore
import NIOHTTP1
import Synchronization

final class WatchReader: Sendable {
    struct State {
        var events: [JSONValue] = []
        var raw: [UInt8] = []
        var finished = false
        var failure: String?
        var status: Int?
        var headers: HTTPHeaders?
        var listeners: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextID = 0
    }

    let state = Mutex(State())
    let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts a watch request (`path` should include `watch=true`), with extra headers.
    static func start(_ client: TestClient, _ path: String, headers: [(String, String)] = []) -> WatchReader {
        let reader = WatchReader()
        let task = Task { await reader.read(client, path, headers: headers) }
        reader.task.withLock { $0 = task }
        return reader
    }

    func read(_ client: TestClient, _ path: String, headers: [(String, String)]) async {
        var request = HTTPClientRequest(url: client.baseURL + path)
        if let token = client.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            let response = try await client.client.execute(request, timeout: .seconds(30))
            update { $0.status = Int(response.status.code); $0.headers = response.headers }
            var pending: [UInt8] = []
            for try await var chunk in response.body {
                let bytes = chunk.readBytes(length: chunk.readableBytes) ?? []
                pending.append(contentsOf: bytes)
                var lines: [JSONValue] = []
                var failure: String?
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(pending[..<newline])
                    pending.removeFirst(newline + 1)
                    do {
                        lines.append(try JSONValue.parse(line))
                    } catch {
                        failure = "bad event line: \(String(decoding: line, as: UTF8.self))"
                    }
                }
                update {
                    $0.raw.append(contentsOf: bytes)
                    $0.events.append(contentsOf: lines)
                    if let failure { $0.failure = failure }
                }
            }
            update { $0.finished = true }
        } catch {
            update { $0.failure = "\(error)"; $0.finished = true }
        }
    }

    func update(_ change: (inout State) -> Void) {
        let listeners = state.withLock { state in
            change(&state)
            return Array(state.listeners.values)
        }
        for listener in listeners { listener.yield() }
    }

    var events: [JSONValue] { state.withLock { $0.events } }
    var finished: Bool { state.withLock { $0.finished } }
    var failure: String? { state.withLock { $0.failure } }
    var status: Int? { state.withLock { $0.status } }
    var headers: HTTPHeaders? { state.withLock { $0.headers } }
    var rawText: String { state.withLock { String(decoding: $0.raw, as: UTF8.self) } }

    /// Event types, e.g. ["ADDED", "MODIFIED"].
    var types: [String] { events.map { $0["type"]?.stringValue ?? "?" } }

    /// Waits until `condition` holds on the state or `timeout` passes; returns whether it held.
    @discardableResult
    func wait(timeout: Duration = .seconds(30), until condition: @escaping @Sendable (State) -> Bool) async -> Bool {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            state.nextID += 1
            state.listeners[state.nextID] = continuation
            return state.nextID
        }
        defer { _ = state.withLock { $0.listeners.removeValue(forKey: id) } }
        if state.withLock({ condition($0) }) { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in stream where self.state.withLock({ condition($0) }) { return true }
                return false
            }
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch { return false }
                return false
            }
            let result = await group.next() ?? false
            group.cancelAll()
            continuation.finish()
            return result || state.withLock { condition($0) }
        }
    }

    /// Waits for at least `count` events; returns them.
    @discardableResult
    func waitForEvents(_ count: Int, timeout: Duration = .seconds(30)) async -> [JSONValue] {
        await wait(timeout: timeout) { $0.events.count >= count }
        return events
    }

    /// Waits for the response to end.
    @discardableResult
    func waitForEnd(timeout: Duration = .seconds(30)) async -> Bool {
        await wait(timeout: timeout) { $0.finished }
    }

    func cancel() { task.withLock { $0?.cancel() } }
}
