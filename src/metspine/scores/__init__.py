"""Published instruments, one pure module each. Every function takes the case (or a lesion) and the
policy and returns a ScoreResult; none reads files, the clock or globals."""
