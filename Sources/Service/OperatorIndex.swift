import Autograd

/// The engine's operator catalog, indexed by name and alias.
enum OperatorIndex {
    static let byName: [String: OpSpec] = {
        var index: [String: OpSpec] = [:]
        for spec in Operators.catalog {
            index[spec.name] = spec
            for alias in spec.aliases where index[alias] == nil { index[alias] = spec }
        }
        return index
    }()

    static func spec(_ name: String) -> OpSpec? { byName[name] }
}
