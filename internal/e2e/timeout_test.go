package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ccgtracker/internal/auth"
)

// TestSessionTimeoutWarning checks WCAG 2.2.1 Timing Adjustable: before the
// idle timeout signs someone out, a dialog warns them, and "Stay signed in"
// really extends the session on the server, not only on the page.
func TestSessionTimeoutWarning(t *testing.T) {
	t.Parallel()
	// A short idle timeout so the test takes seconds: app.js warns at half
	// of it when it is under ten minutes, so after 3 seconds here.
	const idle = 6 * time.Second
	base := newApp(t, map[string]string{"SESSION_IDLE_TIMEOUT": "6s", "SESSION_LIFETIME": "1h"})
	ctx := newBrowser(t)

	signIn(t, ctx, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	// The dashboard was the session's last use: the server's idle timer
	// and the page's timers both start about now.
	loaded := time.Now()
	wantPath(t, ctx, base, "/")
	if open := dialogOpen(t, ctx); open {
		t.Fatalf("the timeout warning is open as soon as the page loads")
	}

	// Wait for the warning, at most until the session would end.
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](
		`document.getElementById('session-timeout').open`,
		chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(idle),
	)); err != nil {
		t.Fatalf("the timeout warning did not open within %s: %v", idle, err)
	}
	warned := time.Since(loaded)
	if warned < idle/2-time.Second {
		t.Errorf("the warning opened %s after the page loaded, want about %s", warned.Round(time.Millisecond), idle/2)
	}
	t.Logf("the warning opened %s after the page loaded", warned.Round(time.Millisecond))
	wantText(t, ctx, "#session-timeout-title", "You will be signed out soon")
	wantContains(t, ctx, "#session-timeout", "unless you choose to stay signed in")
	// A modal dialog must take the focus, or a keyboard or screen reader
	// user does not know it is there.
	focusInDialog, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.getElementById('session-timeout').contains(document.activeElement)`))
	if err != nil || !focusInDialog {
		t.Errorf("the focus is not in the open warning (err %v)", err)
	}
	checkAccessibility(t, ctx, "dashboard with the timeout warning open")

	// "Stay signed in" closes the warning without leaving the page.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("session-extend"))); err != nil {
		t.Fatalf("press Stay signed in: %v", err)
	}
	extended := time.Now()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](
		`!document.getElementById('session-timeout').open`,
		chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(5*time.Second),
	)); err != nil {
		t.Fatalf("the warning did not close after Stay signed in: %v", err)
	}
	wantPath(t, ctx, base, "/")

	// Wait until the session would have ended without the extension, then
	// use it: only a session the server really extended is still there.
	if d := time.Until(loaded.Add(idle + time.Second)); d > 0 {
		time.Sleep(d)
	}
	if time.Since(extended) >= idle {
		t.Fatalf("the test was too slow to tell an extended session from an old one")
	}
	wantPath(t, ctx, base, "/") // the page's own timer has not signed them out either
	if status := visit(t, ctx, base+"/ccgs/16C"); status != 200 {
		t.Errorf("/ccgs/16C after Stay signed in: status %d, want 200", status)
	}
	wantPath(t, ctx, base, "/ccgs/16C")
	wantText(t, ctx, "h1", "NHS Tees Valley CCG")
	wantText(t, ctx, "[data-testid=user-name]", "Bea Buyer")
}

// dialogOpen reports whether the session timeout warning is open.
func dialogOpen(t *testing.T, ctx context.Context) bool {
	t.Helper()
	open, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('session-timeout').open`))
	if err != nil {
		t.Fatalf("read the timeout warning: %v", err)
	}
	return open
}
