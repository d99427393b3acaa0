// Bearer tokens, static or from a file that is re-read (projected tokens rotate).
//
// client-go reads a token file through a cached token source that expires one minute after
// each read (with 10 s leeway: about every 50 s), keeps the previous token when a re-read
// fails, and drops the cached token after a 401 (transport/token_source.go:66-81, 101-115,
// 162-193). Kubelet rotates projected tokens at 80 % of their lifetime, so a process that
// read its token once would start failing after about an hour.
import Logging
import Synchronization

/// How the client authenticates with a bearer token.
package enum BearerToken: Sendable, Hashable {
    /// A fixed token (kubeconfig `token`).
    case fixed(String)
    /// A file holding the token, re-read periodically and after a 401 (kubeconfig
    /// `tokenFile`, the in-cluster service-account token).
    case file(path: String)
}

/// Hands out the current token, re-reading a token file when due.
final class BearerTokenSource: Sendable {
    private struct State {
        var token: String?
        var readAt: Duration?
        var stale = false
    }

    let source: BearerToken
    private let refreshInterval: Duration
    private let clock: any EngineClock
    private let logger: Logger
    private let state = Mutex(State())

    init(_ source: BearerToken, refreshInterval: Duration, clock: any EngineClock, logger: Logger) {
        self.source = source
        self.refreshInterval = refreshInterval
        self.clock = clock
        self.logger = logger
    }

    /// The token to send now.
    ///
    /// - Throws: `KubeError.credentials` only when the file cannot be read and no earlier
    ///   token exists; a failed re-read keeps the previous token (and logs a warning).
    func token() throws(KubeError) -> String {
        switch source {
        case .fixed(let token):
            return token
        case .file(let path):
            let now = clock.now
            let cached: String? = state.withLock { state in
                guard let token = state.token, let readAt = state.readAt, !state.stale,
                      now - readAt < refreshInterval
                else { return nil }
                return token
            }
            if let cached { return cached }
            return try reread(path: path, now: now)
        }
    }

    /// Marks the token stale after a 401, so the next `token()` re-reads the file.
    /// Returns true if a re-read is possible (a file-based token).
    @discardableResult
    func invalidate() -> Bool {
        guard case .file = source else { return false }
        state.withLock { $0.stale = true }
        return true
    }

    private func reread(path: String, now: Duration) throws(KubeError) -> String {
        let result = LocalFile.text(of: path, limit: 64 << 10).flatMap { text -> Result<String, LocalFileError> in
            let token = text.trimmingWhitespace()
            return token.isEmpty ? .failure(LocalFileError(path: path, reason: "is empty")) : .success(token)
        }
        switch result {
        case .success(let token):
            state.withLock { state in
                if let old = state.token, old != token {
                    logger.info("bearer token file changed; using the new token", metadata: ["path": "\(path)"])
                }
                state = State(token: token, readAt: now, stale: false)
            }
            return token
        case .failure(let error):
            let previous: String? = state.withLock { state in
                // Keep the old token, but try again at the next interval rather than on
                // every request.
                state.readAt = now
                state.stale = false
                return state.token
            }
            guard let previous else { throw .credentials(path: path, reason: error.reason) }
            logger.warning("cannot re-read bearer token file; keeping the previous token",
                           metadata: ["path": "\(path)", "error": "\(error.reason)"])
            return previous
        }
    }
}

extension String {
    /// Without leading and trailing whitespace and newlines.
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
