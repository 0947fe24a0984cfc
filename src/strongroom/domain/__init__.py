"""The domain core: the records, enumerations, ``Principal`` and ``Caller`` that every other
package speaks in. It imports nothing else of Strongroom (an import-linter contract says so), so
storage, policy, kms and iam can all depend on it without depending on each other."""
