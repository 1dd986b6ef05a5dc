// Shows why the last login failed (the server redirects back with ?error=…).
const reason = new URLSearchParams(location.search).get('error');
const box = document.getElementById('login-error') as HTMLElement;
if (reason) {
  box.textContent =
    reason === 'locked'
      ? 'Too many failed attempts: wait a minute and try again.'
      : reason === 'expired'
        ? 'Your session has expired: log in again.'
        : 'Wrong user name or password.';
  box.hidden = false;
}
