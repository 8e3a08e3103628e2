package redis

// ScriptNames maps the SHA1 of each of s's scripts, as EVALSHA names it in SLOWLOG and MONITOR, to the state
// call it serves: the bench (P7) reports Redis's own time per script with it.
func (s *State) ScriptNames() map[string]string {
	names := map[string]string{}
	sc := s.scripts
	for name, x := range map[string]interface{ Hash() string }{
		"admit": sc.admit, "reserve": sc.reserve, "settle": sc.settle, "lookup": sc.lookup, "observe": sc.observe,
		"refund": sc.refund, "holder": sc.holder, "release": sc.release, "busy": sc.busy, "revoke": sc.revoke,
	} {
		names[x.Hash()] = name
	}
	return names
}
