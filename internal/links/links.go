// Package links is the one home of the service's addresses that travel
// outside a page: the links in the emails the domain packages queue (a
// return to submit, the review queue, a set-password link) and the
// server's own helpers for the same pages. Each address here must match a
// route of the server's table (internal/server/routes.go), which a test
// of the server checks.
package links

// Return is a CCG's return for a month (period as 2026-11).
func Return(ccg, period string) string { return "/ccgs/" + ccg + "/returns/" + period }

// ReviewQueue is the reviewers' list of returns to review.
func ReviewQueue() string { return "/returns" }

// SetPassword is the page where a set-password link's token is used.
func SetPassword(token string) string { return "/set-password/" + token }
