export const FIRST_NAMES = ['Anna', 'Ben', 'Clara', 'David', 'Emma', 'Felix', 'Greta', 'Hannes', 'Ida', 'Jonas', 'Lena', 'Max', 'Mia', 'Noah', 'Paul', 'Sophie'];
export const LAST_NAMES = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Richter'];
export const WORDS = [
  'Patient', 'berichtet', 'über', 'anhaltende', 'Kopfschmerzen', 'seit', 'drei', 'Wochen', 'Blutdruck', 'erhöht', 'Therapie',
  'empfohlen', 'Kontrolle', 'in', 'vier', 'Wochen', 'Befund', 'unauffällig', 'Labor', 'Werte', 'im', 'Normbereich', 'Diagnose',
  'gesichert', 'Medikation', 'angepasst', 'Röntgen', 'Thorax', 'ohne', 'Befund', 'Anamnese', 'Allergie', 'Penicillin',
];
/** A patient name that must never appear in any output: tests search every output for it. */
export const CANARY_PATIENT_NAME = 'Kanarienvogel Zyxwv-Canary';
