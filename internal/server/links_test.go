package server

import (
	"testing"

	"ccgtracker/internal/links"
)

// TestLinksAreRoutes: every address the domain packages put in an email
// (internal/links) is a page of the route table, the one it means. A route
// renamed without its link would send people to "Page not found".
func TestLinksAreRoutes(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	for _, c := range []struct{ name, path, pattern string }{
		{"a return", links.Return("16C", "2026-11"), "/ccgs/{code}/returns/{period}"},
		{"the review queue", links.ReviewQueue(), "/returns"},
		{"a set-password link", links.SetPassword("abc123"), "/set-password/{token}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := app.srv.patternOf(c.path); got != c.pattern {
				t.Errorf("%s is served by %q, want %q", c.path, got, c.pattern)
			}
		})
	}
}
