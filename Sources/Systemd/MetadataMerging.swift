import Logging

/// What wbkeyd's two log backends share: metadata set on the handler, from its
/// provider and on the entry, merged in that order of precedence.
protocol MetadataMerging: LogHandler {}

extension MetadataMerging {
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func mergedMetadata(of event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        return merged
    }
}
