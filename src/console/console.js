// Keeps the status table current without a reload: asks for the table alone every few
// seconds with the ETag it has, and swaps it in only when it changed (304 otherwise).
(() => {
  const live = document.getElementById('live');
  if (!live) return;
  const every = Number(live.dataset.refresh) || 5000;
  let etag;
  const refresh = async () => {
    try {
      const headers = { 'x-pathwatch-fragment': 'status-table' };
      if (etag) headers['if-none-match'] = etag;
      const response = await fetch(location.href, { headers, credentials: 'same-origin' });
      if (response.status === 200) {
        etag = response.headers.get('etag') ?? undefined;
        live.innerHTML = await response.text();
      }
    } catch {
      // The API is restarting: the next round asks again.
    }
    setTimeout(refresh, every);
  };
  setTimeout(refresh, every);
})();
