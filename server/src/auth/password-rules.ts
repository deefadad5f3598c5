/**
 * Passwords people pick first (and the demo's own words), refused whatever their length;
 * a short list on purpose: length does the rest (8+ characters, `PasswordSchema`).
 */
const COMMON = new Set([
  'password',
  'password1',
  'password123',
  'passw0rd',
  '12345678',
  '123456789',
  '1234567890',
  '87654321',
  'qwertyuiop',
  'qwerty123',
  'iloveyou',
  'sunshine',
  'princess',
  'football',
  'baseball',
  'welcome1',
  'letmein1',
  'admin123',
  'administrator',
  'changeme',
  'radiology',
  'radiologist',
  'hospital',
  'xray1234',
]);

/** Why a password may not be used for this account, or undefined when it may. */
export function passwordProblem(username: string, password: string): string | undefined {
  const folded = password.toLowerCase();
  if (folded === username.toLowerCase()) return 'the password may not be the username';
  if (COMMON.has(folded)) return 'this password is too common';
  if (/^(.)\1*$/.test(password)) return 'the password may not repeat one character';
  return undefined;
}
