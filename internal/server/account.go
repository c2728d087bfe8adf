package server

import (
	"net/http"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/outbox"
	"ccgtracker/web/views"
)

// accountMessages is how many of a person's latest emails their account
// page lists.
const accountMessages = 20

// sendsTo says, by role, which emails the service sends a person: what
// internal/nightly, internal/tracker and internal/auth queue to them.
func sendsTo(role auth.Role) []string {
	var out []string
	switch role {
	case auth.Buyer:
		out = append(out,
			"A reminder 3 days before your CCG's monthly return is due.",
			"A reminder the day after a return was due and not submitted, then every week while it is late.",
			"When NHS Digital sends your return back, with the reviewer's comments.",
			"When NHS Digital accepts your return, with what was applied to the service ledger and what waits for its date.")
	case auth.Reviewer:
		out = append(out,
			"Each morning, the list of CCGs whose return is late (only on days when one is).",
			"At once, when a CCG submits again a return that was sent back.")
	}
	return append(out, "A link to set your password, when an administrator creates one for you.")
}

// account is the signed-in person's own page: who they are, the emails
// the service sends them, and the latest it sent or queued.
func (s *Server) account(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	msgs, err := outbox.ForUser(r.Context(), s.pool, u.ID, accountMessages)
	if err != nil {
		return err
	}
	ccg := ""
	if u.CCGCode != "" {
		ccg = u.CCGName + " (" + u.CCGCode + ")"
	}
	s.render(w, r, http.StatusOK, views.Account(views.AccountPage{
		Page: s.page(r, "Your account"), Name: u.Name, Email: u.Email, Role: u.Role.Name(), CCG: ccg,
		Sends: sendsTo(u.Role), Messages: s.messageRows(msgs), Limit: accountMessages,
	}))
	return nil
}
