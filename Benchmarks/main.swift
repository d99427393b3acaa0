// `swift run -c release Benchmarks [lookup|hash|build|memory|remap|balance|storage|provisioning|engine ...] [--json] [--quick]`
//
// Prints readable tables (Markdown) as each completes, or one JSON document with --json.
// No argument runs the ring benchmarks (about two minutes on the 2-core machines here);
// the others run only when named: `storage` (per-operation latency of the stores) and
// `provisioning` (claims/s through the engine and LocalCluster on three direct members, all
// up and with one SIGSTOPped) start nfs-ganesha and need root; `engine` (the engine at
// scale: 10,000 claims on 10 and 100 local-directory members, rate limits, a hung member;
// options `--members=10,100`, `--claims=N`, `--claim-workers=N`, `--exports=DIR` (default /dev/shm),
// `--no-qps`, `--no-hung`)
// takes several minutes and needs root for its bindfs mount.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == EngineChild.command {
    EngineChild.main(Array(arguments.dropFirst()))
}
let known = ["lookup", "hash", "build", "memory", "remap", "balance", "storage", "provisioning", "engine"]
/// Run only when named: they need root, start servers, or take long.
let nfsBenchmarks: Set<String> = ["storage", "provisioning", "engine"]
let json = arguments.contains("--json")
let quick = arguments.contains("--quick")
let selected = arguments.filter { !$0.hasPrefix("--") }
if arguments.contains("--help") || arguments.contains("-h") {
    print("usage: swift run -c release Benchmarks [\(known.joined(separator: "|")) ...] [--json] [--quick]")
    print("       engine options: --members=10,100 --claims=N --claim-workers=N --exports=DIR --no-qps --no-hung")
    exit(0)
}
if let unknown = selected.first(where: { !known.contains($0) }) {
    FileHandle.standardError.write(Data("Benchmarks: unknown benchmark \"\(unknown)\"; choose from \(known.joined(separator: ", "))\n".utf8))
    exit(2)
}
#if DEBUG
FileHandle.standardError.write(Data("Benchmarks: this is a debug build; figures are meaningless. Use `swift run -c release Benchmarks`.\n".utf8))
#endif
let wanted = selected.isEmpty ? known.filter { !nfsBenchmarks.contains($0) } : selected
let reporter = Reporter(json: json)
let cores = ProcessInfo.processInfo.activeProcessorCount
if !json { print("# nfs-cluster-provisioner benchmarks\n\n\(cores) cores, \(ProcessInfo.processInfo.operatingSystemVersionString)\n") }
for name in wanted {
    switch name {
    case "lookup": LookupBenchmarks.run(reporter, quick: quick)
    case "hash": LookupBenchmarks.runHashes(reporter, quick: quick)
    case "build": RingShapeBenchmarks.build(reporter, quick: quick)
    case "memory": RingShapeBenchmarks.memory(reporter)
    case "remap": RingShapeBenchmarks.remap(reporter, quick: quick)
    case "balance": RingShapeBenchmarks.balance(reporter, quick: quick)
    case "storage": StorageBenchmarks.run(reporter, quick: quick)
    case "provisioning": ProvisioningBenchmarks.run(reporter, quick: quick)
    case "engine": EngineBenchmarks.run(reporter, quick: quick, arguments: arguments)
    default: break
    }
}
reporter.finish(machine: ["cores": cores, "os": ProcessInfo.processInfo.operatingSystemVersionString])
