export { normalizePhone, type PhoneResult } from "./normalize";
