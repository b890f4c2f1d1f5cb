// The widget's REST calls: JSON in and out, no cookies; a failure becomes
// an Error with the desk's message (or a generic one in the visitor's
// language) and its `code`.

/** A `call(method, path, body)` whose generic error is worded through `s`. */
export function apiCaller(s) {
  return async function call(method, path, body) {
    let res;
    try {
      res = await fetch(path, {
        method, credentials: 'omit',
        headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new Error(s('error_generic'));
    }
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new Error((data && data.error && data.error.message) || s('error_generic'));
      err.code = data && data.error && data.error.code;
      throw err;
    }
    return data;
  };
}
