// The sandbox stand-in for a cPanel login: shows which user it would be.
const user = new URLSearchParams(location.search).get('user');
// As text, never as HTML: the name comes from the address bar.
document.getElementById('user').textContent = user && user.trim() ? user.slice(0, 64) : '(no user named)';
