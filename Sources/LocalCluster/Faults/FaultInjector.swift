// Matching requests against fault rules, counting firings, and the request log.

import Synchronization

final class FaultInjector: Sendable {
    struct Entry {
        var rule: FaultRule
        var fired = 0
    }

    struct State {
        var rules: [(Int, Entry)] = []
        var removedCounts: [Int: Int] = [:]
        var nextID = 1
        var random: SeededRandom
        var log: [RequestRecord] = []
    }

    let state: Mutex<State>
    let logLimit: Int

    init(seed: UInt64, logLimit: Int) {
        state = Mutex(State(random: SeededRandom(seed: seed)))
        self.logLimit = max(0, logLimit)
    }

    func add(_ rule: FaultRule) -> FaultHandle {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.rules.append((id, Entry(rule: rule)))
            return FaultHandle(id: id)
        }
    }

    func remove(_ handle: FaultHandle) {
        state.withLock { state in
            if let index = state.rules.firstIndex(where: { $0.0 == handle.id }) {
                state.removedCounts[handle.id] = state.rules[index].1.fired
                state.rules.remove(at: index)
            }
        }
    }

    func removeAll() {
        state.withLock { state in
            for (id, entry) in state.rules { state.removedCounts[id] = entry.fired }
            state.rules.removeAll()
        }
    }

    func fireCount(_ handle: FaultHandle) -> Int {
        state.withLock { state in
            state.rules.first { $0.0 == handle.id }?.1.fired ?? state.removedCounts[handle.id] ?? 0
        }
    }

    /// The first rule that matches and fires for this request (rules are tried in the order
    /// they were added; a rule whose trigger says no lets later rules try).
    func fire(method: String, path: String, verb: RequestVerb?) -> (FaultHandle, FaultAction)? {
        state.withLock { state in
            for index in state.rules.indices {
                let rule = state.rules[index].1.rule
                if let wanted = rule.method, wanted.uppercased() != method.uppercased() { continue }
                if let wanted = rule.verb, wanted != verb { continue }
                guard rule.path.matches(path) else { continue }
                let fires: Bool
                switch rule.trigger {
                case .always: fires = true
                case .times(let limit): fires = state.rules[index].1.fired < limit
                case .probability(let p):
                    let draw = Double(state.random.next() >> 11) / Double(1 << 53)
                    fires = draw < p
                }
                guard fires else { continue }
                state.rules[index].1.fired += 1
                return (FaultHandle(id: state.rules[index].0), rule.action)
            }
            return nil
        }
    }

    func record(_ entry: RequestRecord) {
        guard logLimit > 0 else { return }
        state.withLock { state in
            state.log.append(entry)
            if state.log.count > logLimit + logLimit / 4 { state.log.removeFirst(state.log.count - logLimit) }
        }
    }

    var log: [RequestRecord] { state.withLock { $0.log } }

    func clearLog() { state.withLock { $0.log.removeAll() } }
}
