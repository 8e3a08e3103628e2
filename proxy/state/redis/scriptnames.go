package redis

// ScriptNames maps each script's SHA1, as EVALSHA names it in SLOWLOG and MONITOR, to the state call it
// serves: the bench (P7) reports Redis's own time per script with it.
func ScriptNames() map[string]string {
	names := map[string]string{}
	for name, s := range map[string]interface{ Hash() string }{
		"admit": admitScript, "reserve": reserveScript, "settle": settleScript, "lookup": lookupScript,
		"observe": observeScript, "refund": refundScript, "holder": holderScript, "release": releaseScript,
		"busy": busyScript, "revoke": revokeScript,
	} {
		names[s.Hash()] = name
	}
	return names
}
