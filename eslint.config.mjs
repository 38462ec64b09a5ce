// Lint: typescript-eslint's recommended rules with type information, plus the few house rules
// STYLE.md asks for (no deep imports across libs, process.env only in the config lib).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "bench/results/**", "chaos/results/**", "coverage/**", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/only-throw-error": "off",
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@herald/*/*"], message: "Import a lib through its one public entry (@herald/<lib>)." }] },
      ],
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Only libs/config reads process.env; take a Config." },
      ],
    },
  },
  {
    files: ["libs/config/src/config.ts", "**/*.test.ts", "tests/**", "prisma.config.ts"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    files: ["**/*.test.ts", "tests/**"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
