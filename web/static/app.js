// The NHS.UK design system's behaviour, and the session timeout warning.
// Loaded as an ES module from /static (the CSP allows scripts from 'self' only).
import { initAll } from './vendor/nhsuk-frontend.min.js'

// nhsuk-frontend starts no component on a body without this class, which
// its page template sets with an inline script (for browsers that run
// modules) that the CSP would refuse. A module runs only in such a
// browser, so this is the same test. Without it nothing started: not the
// header menu, the error summary's focus, the conditional reveals, nor the
// scrolling tables' keyboard access.
document.body.classList.add('nhsuk-frontend-supported')
initAll()

// Warn five minutes before the idle timeout signs the person out, and let
// them stay signed in (WCAG 2.2.1 Timing Adjustable).
const dialog = document.getElementById('session-timeout')
if (dialog) {
  const timeout = Number(dialog.dataset.idleTimeout) * 1000
  const warnBefore = Math.min(5 * 60 * 1000, timeout / 2)
  // The server restarts its idle clock at most once a minute, so the
  // session may have a little less than the whole timeout left at first.
  const firstRemaining = Number(dialog.dataset.idleRemaining || dialog.dataset.idleTimeout) * 1000
  const remaining = document.getElementById('session-timeout-remaining')
  let warnTimer, endTimer, tickTimer, deadline

  const schedule = (left) => {
    clearTimeout(warnTimer)
    clearTimeout(endTimer)
    clearInterval(tickTimer)
    deadline = Date.now() + left
    warnTimer = setTimeout(warn, Math.max(0, left - warnBefore))
    endTimer = setTimeout(() => {
      window.location.assign('/login?timeout=1')
    }, left)
  }

  const warn = () => {
    const tick = () => {
      const minutes = Math.max(1, Math.ceil((deadline - Date.now()) / 60000))
      remaining.textContent = minutes === 1 ? '1 minute' : `${minutes} minutes`
    }
    tick()
    tickTimer = setInterval(tick, 15000)
    dialog.showModal()
  }

  document.getElementById('session-extend-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const response = await fetch('/session/extend', { method: 'POST', credentials: 'same-origin', redirect: 'manual' })
    // Only 204 means the session was extended: an expired one is refused.
    if (response.status !== 204) {
      window.location.assign('/login?timeout=1')
      return
    }
    dialog.close()
    schedule(timeout)
  })

  schedule(firstRemaining)
}

// Filter the rows of a long table as the person types (the practice
// picker): without the script every row simply shows.
for (const input of document.querySelectorAll('input[data-filter-rows]')) {
  const rows = document.querySelectorAll(`${input.dataset.filterRows} tbody tr`)
  input.addEventListener('input', () => {
    const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean)
    for (const row of rows) {
      const text = row.textContent.toLowerCase()
      row.hidden = !words.every((w) => text.includes(w))
    }
  })
}

// nhsuk-frontend's radios mark the radio of a conditional reveal
// aria-expanded, which ARIA does not allow on a radio (axe's
// aria-allowed-attr, WCAG 4.1.2): aria-controls already exposes the
// relationship, and the reveal follows the checked state. Its click
// handler runs on the radios' own element, before this one on document.
const dropExpanded = () => document.querySelectorAll('.nhsuk-radios__input[aria-expanded]').forEach((i) => i.removeAttribute('aria-expanded'))
dropExpanded()
document.addEventListener('click', dropExpanded)
window.addEventListener('pageshow', () => setTimeout(dropExpanded))
// An import's upload with its progress (a national file is several
// megabytes): the form is sent by XMLHttpRequest, whose upload events say
// how much has gone, then the browser goes to the import's report, or
// shows the page of problems the server answered. Without the script the
// form posts as any other.
for (const form of document.querySelectorAll('form[data-upload-progress]')) {
  const panel = form.querySelector('[data-upload-progress-panel]')
  const bar = form.querySelector('progress')
  const status = form.querySelector('[data-upload-status]')
  form.addEventListener('submit', (event) => {
    const file = form.querySelector('input[type=file]')
    if (!file || file.files.length === 0) {
      return // the server says what is missing
    }
    event.preventDefault()
    const button = form.querySelector('button[type=submit]')
    button.disabled = true
    panel.hidden = false
    status.textContent = 'Uploading the file'
    const xhr = new XMLHttpRequest()
    xhr.open('POST', form.action)
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) {
        bar.max = e.total
        bar.value = e.loaded
        status.textContent = `Uploaded ${Math.floor((100 * e.loaded) / e.total)}%`
      }
    })
    xhr.upload.addEventListener('load', () => {
      bar.removeAttribute('value') // indeterminate while the server imports
      status.textContent = 'Uploaded: checking every row and importing'
    })
    xhr.addEventListener('load', () => {
      if (xhr.status < 400 && xhr.responseURL && !xhr.responseURL.endsWith(form.getAttribute('action'))) {
        window.location.assign(xhr.responseURL)
        return
      }
      // The refusal's page, with its list of problems.
      document.open()
      document.write(xhr.responseText)
      document.close()
    })
    xhr.addEventListener('error', () => {
      status.textContent = 'The upload failed: check your connection and try again'
      button.disabled = false
    })
    xhr.send(new FormData(form))
  })
}
