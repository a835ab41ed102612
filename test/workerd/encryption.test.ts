import { describeEncryption } from "../support/encryption-cases.ts";

describeEncryption("workerd");
