# One image for every process; docker-compose.yml picks the app with the command.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.base.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY apps ./apps
COPY libs ./libs
RUN npm install -g npm@11 && npm ci && npx prisma generate && npx turbo run build
ENV NODE_ENV=production
CMD ["node", "apps/api-gateway/dist/main.js"]
