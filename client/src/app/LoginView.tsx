import type { FormEvent } from 'react';
import { useEffect, useRef, useState } from 'react';
import { Api, ApiError } from './api.js';
import type { Auth } from './auth.js';

export function LoginView({
  onLogin,
  notice,
}: {
  onLogin: (auth: Auth) => void;
  notice: string | undefined;
}) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onLogin(await new Api(undefined).login(username.trim(), password));
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'Wrong user name or password'
          : err instanceof Error
            ? err.message
            : 'Sign-in failed',
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} data-testid="login-form">
        <h1>CXR consensus</h1>
        <p className="muted">Live consensus reading of chest radiographs</p>
        {notice && <p className="notice">{notice}</p>}
        <label>
          User name
          <input
            data-testid="login-username"
            autoComplete="username"
            ref={first}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            data-testid="login-password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button
          type="submit"
          className="primary"
          data-testid="login-submit"
          disabled={busy || !username || !password}
        >
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
