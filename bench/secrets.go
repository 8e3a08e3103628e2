package bench

import (
	"slices"
	"strings"
)

// leaks reports which secrets appear in which haystacks, as "what in where" lines (sorted). Secrets shorter
// than 16 characters are skipped: they would match by chance, and every real secret here is longer.
func leaks(secrets map[string]string, haystacks map[string]string) []string {
	var out []string
	for what, secret := range secrets {
		if len(secret) < 16 {
			continue
		}
		for where, hay := range haystacks {
			if strings.Contains(hay, secret) {
				out = append(out, what+" in "+where)
			}
		}
	}
	slices.Sort(out)
	return out
}
