package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"ccgtracker/internal/auth"
)

// TestReviewerAndAdmin follows a reviewer across every CCG, then an
// administrator who creates a buyer and gives them a set-password link,
// and finally that buyer setting their password and arriving signed in.
func TestReviewerAndAdmin(t *testing.T) {
	t.Parallel()
	base := newApp(t, nil)
	ctx := newBrowser(t)

	// The reviewer's home is the review work, then every CCG counted by
	// region.
	signIn(t, ctx, base, "reviewer@example.nhs.uk", auth.DemoPassword)
	wantPath(t, ctx, base, "/")
	wantText(t, ctx, "h1", "Returns to review")
	wantText(t, ctx, "#regions-heading", "CCGs by region")
	wantText(t, ctx, "[data-testid=user-name]", "Rita Reviewer")
	wantContains(t, ctx, "[data-testid=overview-totals]", "106 CCGs")
	wantContains(t, ctx, "[data-testid=overview-totals]", "in 7 regions")
	regions := texts(t, ctx, "[data-testid=regions] tbody tr")
	if len(regions) != 7 {
		t.Errorf("the dashboard lists %d regions, want 7: %q", len(regions), regions)
	}
	// The row of North East and Yorkshire: its name, then 24 CCGs.
	wantContains(t, ctx, `[data-testid=regions] a[href="/ccgs?region=Y63"]`, "North East and Yorkshire")
	neRow := texts(t, ctx, `[data-testid=regions] tbody tr:has(a[href="/ccgs?region=Y63"]) > *`)
	if len(neRow) < 2 || neRow[1] != "24" {
		t.Errorf("the North East and Yorkshire row reads %q, want 24 CCGs", neRow)
	}
	nav := texts(t, ctx, ".nhsuk-header__navigation-list a")
	if !slices.Contains(nav, "CCGs") || slices.Contains(nav, "Users") || slices.Contains(nav, "Your CCG") {
		t.Errorf("the reviewer's menu is %q, want CCGs and no Users or Your CCG", nav)
	}
	checkAccessibility(t, ctx, "reviewer dashboard")

	// Every CCG, searched by name, then filtered by region.
	clickMenu(t, ctx, "/ccgs")
	wantPath(t, ctx, base, "/ccgs")
	wantText(t, ctx, "h1", "CCGs")
	wantText(t, ctx, "[data-testid=pager-summary]", "Showing 1 to 25 of 106")
	checkAccessibility(t, ctx, "CCG list")

	fill(t, ctx, "q", "Tees")
	click(t, ctx, `form[action="/ccgs"] button[type=submit]`)
	wantPath(t, ctx, base, "/ccgs?q=Tees&region=")
	wantText(t, ctx, "[data-testid=pager-summary]", "Showing 1 to 1 of 1")
	wantText(t, ctx, `[data-testid=ccg-list] a[href="/ccgs/16C"]`, "NHS Tees Valley CCG")
	checkAccessibility(t, ctx, "CCG list searched for Tees")

	fill(t, ctx, "q", "")
	fill(t, ctx, "region", "Y63")
	click(t, ctx, `form[action="/ccgs"] button[type=submit]`)
	wantPath(t, ctx, base, "/ccgs?q=&region=Y63")
	wantText(t, ctx, "[data-testid=pager-summary]", "Showing 1 to 24 of 24")
	cells := texts(t, ctx, "[data-testid=ccg-list] tbody td:nth-child(3)")
	if len(cells) != 24 {
		t.Errorf("the region filter lists %d CCGs, want 24", len(cells))
	}
	for _, c := range cells {
		if !strings.HasSuffix(c, "North East and Yorkshire") {
			t.Errorf("the region filter for Y63 lists a CCG of region %q", c)
		}
	}
	if got := texts(t, ctx, `[data-testid=ccg-list] a[href="/ccgs/03Q"]`); len(got) != 1 {
		t.Errorf("the Y63 list lacks 03Q NHS Vale of York CCG")
	}
	checkAccessibility(t, ctx, "CCG list filtered by region")

	// A reviewer may not administer users.
	if status := visit(t, ctx, base+"/admin/users"); status != 403 {
		t.Errorf("/admin/users as a reviewer: status %d, want 403", status)
	}
	wantText(t, ctx, "h1", "You do not have access to this page")
	checkAccessibility(t, ctx, "forbidden page")
	signOut(t, ctx, base)

	// The administrator sees the demo users.
	signIn(t, ctx, base, "admin@example.nhs.uk", auth.DemoPassword)
	clickMenu(t, ctx, "/admin/users")
	wantPath(t, ctx, base, "/admin/users")
	wantText(t, ctx, "h1", "Users")
	users := texts(t, ctx, "[data-testid=user-list] tbody tr")
	if len(users) != len(auth.DemoUsers) {
		t.Errorf("the user list has %d rows, want the %d demo users", len(users), len(auth.DemoUsers))
	}
	listed := strings.Join(users, "\n")
	for _, u := range auth.DemoUsers {
		if !strings.Contains(listed, u.Email) {
			t.Errorf("the user list lacks %s", u.Email)
		}
	}
	checkAccessibility(t, ctx, "user list")

	// An empty form comes back with every problem, each at its field.
	click(t, ctx, `a[href="/admin/users/new"]`)
	wantPath(t, ctx, base, "/admin/users/new")
	wantText(t, ctx, "h1", "Create a user")
	checkAccessibility(t, ctx, "new user form")
	if status := click(t, ctx, `form[action="/admin/users"] button[type=submit]`); status != 400 {
		t.Errorf("empty new user form: status %d, want 400", status)
	}
	summary := texts(t, ctx, ".nhsuk-error-summary__list a")
	wantSummary := []string{"Enter the person's full name", "Enter an email address", "Select a role"}
	if !slices.Equal(summary, wantSummary) {
		t.Errorf("the error summary lists %q, want %q", summary, wantSummary)
	}
	for _, field := range []string{"name", "email", "role"} {
		wantContains(t, ctx, "#"+field+"-error", "Error:")
	}
	if got := texts(t, ctx, ".nhsuk-form-group--error"); len(got) != 3 {
		t.Errorf("%d fields are marked in error, want 3", len(got))
	}
	checkAccessibility(t, ctx, "new user form with errors")

	// A valid buyer of 16C.
	fill(t, ctx, "name", "Nadia Newcomer")
	fill(t, ctx, "email", "nadia.newcomer@example.nhs.uk")
	fill(t, ctx, "role", "buyer")
	fill(t, ctx, "ccg", "16C")
	click(t, ctx, `form[action="/admin/users"] button[type=submit]`)
	if loc := location(t, ctx); !regexp.MustCompile(`/admin/users/\d+$`).MatchString(loc) {
		t.Fatalf("creating a user led to %s, want the user's page", loc)
	}
	userPage := location(t, ctx)
	wantText(t, ctx, "h1", "Nadia Newcomer")
	wantContains(t, ctx, ".nhsuk-notification-banner", "User nadia.newcomer@example.nhs.uk created")
	wantContains(t, ctx, "main .nhsuk-summary-list", "NHS Tees Valley CCG (16C)")
	wantContains(t, ctx, "main .nhsuk-summary-list", "No password yet")
	checkAccessibility(t, ctx, "new user's page")

	// The set-password link is shown once, on the page the POST returns.
	click(t, ctx, `form[action$="/password-link"] button`)
	if loc := location(t, ctx); loc != userPage+"/password-link" {
		t.Errorf("the link page is at %s, want %s/password-link", loc, userPage)
	}
	link := text(t, ctx, "[data-testid=password-link] code")
	if !strings.HasPrefix(link, base+"/set-password/") || len(link) <= len(base+"/set-password/") {
		t.Fatalf("the set-password link is %q, want %s/set-password/<token>", link, base)
	}
	checkAccessibility(t, ctx, "new user's page with the set-password link")

	// The audit log has the creation, by the admin, newest first.
	clickMenu(t, ctx, "/admin/audit")
	wantText(t, ctx, "h1", "Audit log")
	audit := texts(t, ctx, "[data-testid=audit] tbody tr")
	var created string
	for _, row := range audit {
		if strings.Contains(row, "User created") && strings.Contains(row, "nadia.newcomer@example.nhs.uk") {
			created = row
			break
		}
	}
	if created == "" {
		t.Errorf("the audit log has no User created entry for the new user: %q", audit)
	} else if !strings.Contains(created, "admin@example.nhs.uk") {
		t.Errorf("the user.create entry %q does not name the admin who did it", created)
	}
	checkAccessibility(t, ctx, "audit log")
	signOut(t, ctx, base)

	// The new buyer opens the link, chooses a password and is signed in.
	if status := visit(t, ctx, link); status != 200 {
		t.Errorf("the set-password link: status %d, want 200", status)
	}
	wantText(t, ctx, "h1", "Set your password")
	wantContains(t, ctx, "main strong", "nadia.newcomer@example.nhs.uk")
	checkAccessibility(t, ctx, "set password page")

	fill(t, ctx, "password", "short")
	fill(t, ctx, "confirm", "short")
	if status := click(t, ctx, "main form button[type=submit]"); status != 400 {
		t.Errorf("a short password: status %d, want 400", status)
	}
	wantContains(t, ctx, "#password-error", "Password must be 12 characters or more")
	checkAccessibility(t, ctx, "set password page with an error")

	fill(t, ctx, "password", "correct horse battery staple")
	fill(t, ctx, "confirm", "correct horse battery staple")
	click(t, ctx, "main form button[type=submit]")
	wantPath(t, ctx, base, "/")
	wantContains(t, ctx, ".nhsuk-notification-banner", "Your password is set. You are signed in.")
	wantText(t, ctx, "h1", "NHS Tees Valley CCG")
	wantText(t, ctx, "[data-testid=user-name]", "Nadia Newcomer")
	wantText(t, ctx, "[data-testid=practice-count]", "81")
	checkAccessibility(t, ctx, "new buyer's dashboard")

	// The link worked once; the password works from now on.
	signOut(t, ctx, base)
	if status := visit(t, ctx, link); status != 404 {
		t.Errorf("the used set-password link: status %d, want 404", status)
	}
	checkAccessibility(t, ctx, "used set-password link")
	signIn(t, ctx, base, "nadia.newcomer@example.nhs.uk", "correct horse battery staple")
	wantText(t, ctx, "[data-testid=user-name]", "Nadia Newcomer")
}
